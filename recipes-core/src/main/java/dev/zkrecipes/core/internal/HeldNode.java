package dev.zkrecipes.core.internal;

import static java.util.Objects.requireNonNull;

import dev.zkrecipes.core.FencingToken;
import dev.zkrecipes.core.LeadershipLostException;
import java.util.ArrayList;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.OpResult;

/**
 * A znode whose existence is what gives its owner a right: a leadership term, a lock, a permit. It
 * is what election and lock share: the fencing token, validity that follows the connection state,
 * and the guarded transaction that applies only while the node exists.
 *
 * <p>States: VALID → SUSPENDED (connection in doubt) → VALID again (same session back, node still
 * there) or ENDED (session gone, node deleted, released). ENDED is final.
 */
public final class HeldNode {

    /** Where a held node stands. */
    public enum State { VALID, SUSPENDED, ENDED }

    private final CuratorFramework curator;
    private final String path;
    private final FencingToken token;
    private final long sessionId;
    private final String description;
    private volatile State state = State.VALID;

    /**
     * @param path the znode whose existence grants the right
     * @param czxid the znode's creation zxid, which becomes the fencing token
     * @param sessionId the session that owns the (ephemeral) znode
     * @param description names the right in error messages, e.g. "leadership of election 'x'"
     */
    public HeldNode(CuratorFramework curator, String path, long czxid, long sessionId, String description) {
        this.curator = requireNonNull(curator, "curator");
        this.path = requireNonNull(path, "path");
        this.token = FencingToken.of(czxid);
        this.sessionId = sessionId;
        this.description = requireNonNull(description, "description");
    }

    public String path() {
        return path;
    }

    public FencingToken token() {
        return token;
    }

    public long sessionId() {
        return sessionId;
    }

    public State state() {
        return state;
    }

    public boolean isValid() {
        return state == State.VALID;
    }

    public boolean isEnded() {
        return state == State.ENDED;
    }

    /** VALID → SUSPENDED; true if this call changed the state. */
    public synchronized boolean suspend() {
        if (state != State.VALID) {
            return false;
        }
        state = State.SUSPENDED;
        return true;
    }

    /** SUSPENDED → VALID; true if this call changed the state. */
    public synchronized boolean resume() {
        if (state != State.SUSPENDED) {
            return false;
        }
        state = State.VALID;
        return true;
    }

    /** Any state → ENDED; true if this call changed the state. */
    public synchronized boolean end() {
        if (state == State.ENDED) {
            return false;
        }
        state = State.ENDED;
        return true;
    }

    /** A check that this node still exists, to put first in the caller's own transaction. */
    public CuratorOp guard() {
        try {
            return curator.transactionOp().check().forPath(path);
        } catch (Exception e) {
            throw ZkErrors.translate(e, "building the guard for " + description);
        }
    }

    /**
     * Runs {@code ops} in one ZooKeeper transaction after a check that this node still exists.
     *
     * @throws LeadershipLostException if the node is not VALID here, or is gone on the server;
     *         nothing is applied then
     */
    public List<CuratorTransactionResult> commit(CuratorOp... ops) {
        requireNonNull(ops, "ops");
        List<CuratorOp> all = new ArrayList<>(ops.length + 1);
        all.add(guard());
        for (int i = 0; i < ops.length; i++) {
            all.add(requireNonNull(ops[i], "ops[" + i + "]"));
        }
        State now = state;
        if (now != State.VALID) {
            throw new LeadershipLostException(refusal(now == State.SUSPENDED
                    ? "is suspended: the connection to ZooKeeper is in doubt"
                    : "has ended"));
        }
        try {
            return curator.transaction().forOperations(all);
        } catch (KeeperException e) {
            if (guardFailed(e)) {
                end();
                throw new LeadershipLostException(refusal("has ended: its node " + path + " is gone"), e);
            }
            if (e.code() == KeeperException.Code.SESSIONEXPIRED) {
                // the session owned the node, so the node is gone with it
                end();
                throw new LeadershipLostException(refusal("has ended: its session expired"), e);
            }
            throw ZkErrors.translate(e, "committing a transaction guarded by " + description);
        } catch (Exception e) {
            throw ZkErrors.translate(e, "committing a transaction guarded by " + description);
        }
    }

    private String refusal(String why) {
        return description + " (token " + token + ") " + why + "; the transaction was not applied."
                + " Stop acting on this token and wait to be elected or granted again";
    }

    private static boolean guardFailed(KeeperException e) {
        List<OpResult> results = e.getResults();
        if (results == null || results.isEmpty()) {
            return false;
        }
        return results.get(0) instanceof OpResult.ErrorResult err
                && err.getErr() != KeeperException.Code.OK.intValue()
                && err.getErr() != KeeperException.Code.RUNTIMEINCONSISTENCY.intValue();
    }

    @Override
    public String toString() {
        return description + "[" + path + ", token " + token + ", " + state + "]";
    }
}
