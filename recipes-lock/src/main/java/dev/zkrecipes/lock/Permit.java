package dev.zkrecipes.lock;

import dev.zkrecipes.core.FencingToken;
import java.util.List;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;

/**
 * One permit of a {@link DistributedSemaphore}, held until closed. Validity, guard and commit behave
 * as for a {@link LockHandle}: false from SUSPENDED, true again if the same session reconnects with
 * the node in place, false for good once the session is lost.
 */
public interface Permit extends AutoCloseable {

    /** The czxid of the permit's node. */
    FencingToken token();

    /** True while the permit is held and the connection is known good. */
    boolean isValid();

    /** A check that the permit's node still exists, for your own transaction. */
    CuratorOp guard();

    /**
     * Runs {@code ops} in one transaction behind {@link #guard()}, sent once; see
     * {@link LockHandle#commit} for the outcomes.
     *
     * @throws dev.zkrecipes.core.LeadershipLostException if the permit is no longer held; nothing is applied
     * @throws dev.zkrecipes.core.ConnectionLossException if the reply did not come: the outcome is unknown
     */
    List<CuratorTransactionResult> commit(CuratorOp... ops);

    /**
     * Returns the permit: deletes its node before returning, or after the client's connection
     * timeout if ZooKeeper does not answer (Curator then deletes it in the background). May be
     * called from any thread. Idempotent; never throws for a permit whose session already expired.
     */
    @Override
    void close();
}
