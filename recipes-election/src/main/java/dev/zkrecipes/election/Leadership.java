package dev.zkrecipes.election;

import dev.zkrecipes.core.FencingToken;
import dev.zkrecipes.core.LeadershipLostException;
import java.util.List;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;

/**
 * One term of leadership: from the moment a participant's node is first in the election until the
 * term ends (resigned, closed, session expired). A term is suspended while the connection is in doubt
 * and resumes, with the same token, if the same session reconnects.
 *
 * <p>A term object is immutable apart from its validity; it stays usable after the term ended, so
 * that {@link #commit} can refuse writes from it.
 */
public interface Leadership {

    /**
     * The fencing token of this term: the czxid of the term's node, strictly greater than the token
     * of every earlier term of the same election.
     */
    FencingToken token();

    /** The id of the participant that holds (or held) this term. */
    String participantId();

    /**
     * True while the term holds and the connection is known good. False from the moment the
     * connection is suspended (true again if the same session reconnects and the term resumes), and
     * false for good once the term ended. A leader must not act while this is false.
     *
     * <p>This is the client's view: after a long pause (GC, a stopped VM) it can still say true for
     * a moment after the ensemble expired the session. Writes that must never come from a superseded
     * leader go through {@link #commit} or carry {@link #token()} to a resource that checks it.
     */
    boolean isValid();

    /**
     * A check that this term's node still exists, to put first in a transaction of your own
     * ({@code curator.transaction().forOperations(term.guard(), ...)}): the transaction then fails
     * as a whole once the term has ended on the server.
     */
    CuratorOp guard();

    /**
     * Runs {@code ops} in one ZooKeeper transaction, after {@link #guard()}: it applies only while
     * this term holds on the server.
     *
     * <p>The transaction is sent exactly once, never re-sent by a retry loop, so a lost reply can
     * neither apply it twice nor turn an applied transaction into a refusal. Build ops with
     * {@code zk.ops()}. Waits at most the session timeout + 2 s.
     *
     * @return the results of {@code ops}, preceded by the guard's
     * @throws LeadershipLostException if the term is suspended or over, locally or on the server;
     *         nothing was applied. If this is how the end was found, the listener hears
     *         {@code revoked} too
     * @throws dev.zkrecipes.core.ConnectionLossException if the reply did not come (connection lost,
     *         the caller interrupted): the outcome is unknown; re-read before acting
     * @throws dev.zkrecipes.core.ZkRecipeException if one of {@code ops} failed (for example
     *         {@link dev.zkrecipes.core.VersionConflictException}); nothing was applied
     */
    List<CuratorTransactionResult> commit(CuratorOp... ops);
}
