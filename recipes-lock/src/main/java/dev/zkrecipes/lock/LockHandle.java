package dev.zkrecipes.lock;

import dev.zkrecipes.core.FencingToken;
import java.util.List;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;

/**
 * Proof that the calling thread holds a {@link DistributedLock}, one level of it: each successful
 * {@code acquire} returns a handle, and closing the handle releases that level. The lock is free
 * for others once every level is closed.
 *
 * <p>Validity follows the connection: false from the moment it is SUSPENDED, true again if the same
 * session reconnects and the lock node is still there, false for good once the session is lost.
 * While it is false another client may hold the lock; do not act on it. Writes that must never come
 * from a former holder go through {@link #commit} or carry {@link #token()} to a resource that
 * checks it.
 */
public interface LockHandle extends AutoCloseable {

    /** The fencing token: the czxid of the lock node, strictly greater than every earlier holder's. */
    FencingToken token();

    /** True while the lock is held and the connection is known good. */
    boolean isValid();

    /** A check that the lock node still exists, to put first in your own transaction. */
    CuratorOp guard();

    /**
     * Runs {@code ops} in one ZooKeeper transaction behind {@link #guard()}: it applies only while
     * the lock is held on the server. The transaction is sent once and never re-sent by a retry
     * loop. Build ops with {@code zk.ops()}. Waits at most the session timeout + 2 s.
     *
     * @return the results: the guard's first, then one per op
     * @throws dev.zkrecipes.core.LeadershipLostException if the lock is no longer held (or is
     *         suspended); nothing is applied. If this is how the loss was found, listeners hear
     *         {@link LockListener#lost} too
     * @throws dev.zkrecipes.core.ConnectionLossException if the reply did not come (connection lost,
     *         caller interrupted): the outcome is unknown, re-read before acting
     * @throws dev.zkrecipes.core.ZkRecipeException naming the op and path that the server refused
     *         ({@link dev.zkrecipes.core.NoSuchPathException}, {@link dev.zkrecipes.core.VersionConflictException},
     *         ...); nothing is applied
     */
    List<CuratorTransactionResult> commit(CuratorOp... ops);

    /**
     * Releases this level of the lock; the last level deletes the lock node before returning, so
     * another client can take the lock as soon as this returns. If ZooKeeper does not answer within
     * the client's connection timeout (5 s by default), it returns anyway and Curator deletes the
     * node in the background (the session's end deletes it too). Closing twice does nothing. A lock
     * whose session has expired is already released: closing logs it and does not throw, so that a
     * try-with-resources block ends normally (its {@link #commit} calls did fail).
     *
     * @throws IllegalStateException if called from a thread other than the one that acquired it
     */
    @Override
    void close();
}
