package dev.zkrecipes.core.internal;

import static java.util.Objects.requireNonNull;

import dev.zkrecipes.core.AlreadyExistsException;
import dev.zkrecipes.core.ConnectionLossException;
import dev.zkrecipes.core.DirectoryNotEmptyException;
import dev.zkrecipes.core.FencingToken;
import dev.zkrecipes.core.LeadershipLostException;
import dev.zkrecipes.core.NoSuchPathException;
import dev.zkrecipes.core.VersionConflictException;
import dev.zkrecipes.core.ZkRecipeException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.curator.framework.api.transaction.OperationType;
import org.apache.curator.framework.api.transaction.TypeAndPath;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.data.Stat;

/**
 * A znode whose existence is what gives its owner a right: a leadership term, a lock, a permit. It
 * is what election and lock share: the fencing token, validity that follows the connection state,
 * and the guarded transaction that applies only while the node exists.
 *
 * <p>States: VALID → SUSPENDED (connection in doubt) → VALID again (same session back, node still
 * there) or ENDED (session gone, node deleted, released). ENDED is final. A held node only ever
 * stands on a node of the client's current session: {@code sessionId} is the node's ephemeral
 * owner as the server reported it, and nothing is granted, resumed or committed under another one.
 *
 * <p>When the node is found gone from the server's side (a refused commit, an operator's delete),
 * the owner's {@link LossListener} hears it once, so that the loss is announced however it was
 * discovered.
 */
public final class HeldNode {

    /** Where a held node stands. */
    public enum State { VALID, SUSPENDED, ENDED }

    /** Why a held node ended on the server's side. */
    public enum Loss {
        /** The session that owned the node is gone, and the ephemeral node with it. */
        SESSION_EXPIRED,
        /** The node was deleted while its session lived: by an operator, or another client. */
        NODE_DELETED
    }

    /** Hears a held node found gone on the server. It ends the node its own way (and announces it). */
    @FunctionalInterface
    public interface LossListener {
        void lost(HeldNode node, Loss why);
    }

    /** Bound on waiting for a commit's reply beyond the session timeout: ZooKeeper itself fails it first. */
    private static final long COMMIT_MARGIN_MILLIS = 2_000;

    private final CuratorFramework curator;
    private final String path;
    private final FencingToken token;
    private final long sessionId;
    private final String description;
    private volatile State state = State.VALID;
    private volatile LossListener lossListener;
    private final AtomicBoolean lossFound = new AtomicBoolean();

    /**
     * @param path the znode whose existence grants the right
     * @param czxid the znode's creation zxid, which becomes the fencing token
     * @param sessionId the session that owns the (ephemeral) znode: its {@code ephemeralOwner}
     * @param description names the right in error messages, e.g. "leadership of election 'x'"
     */
    public HeldNode(CuratorFramework curator, String path, long czxid, long sessionId, String description) {
        this.curator = requireNonNull(curator, "curator");
        this.path = requireNonNull(path, "path");
        if (czxid <= 0) {
            throw new IllegalArgumentException("a held node needs the czxid of its znode, got " + czxid + " for " + path);
        }
        this.token = FencingToken.of(czxid);
        this.sessionId = sessionId;
        this.description = requireNonNull(description, "description");
    }

    /** Sets who hears this node found gone on the server; set once, before the node is handed out. */
    public HeldNode onLoss(LossListener listener) {
        this.lossListener = requireNonNull(listener, "listener");
        return this;
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

    public String description() {
        return description;
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

    /**
     * SUSPENDED → VALID, only while the client's session is still the node's; true if this call
     * changed the state.
     */
    public synchronized boolean resume() {
        if (state != State.SUSPENDED || !Sessions.isCurrent(curator, sessionId)) {
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

    /**
     * The node was found gone on the server: tells the loss listener (once), then ends the node.
     *
     * @return true if this call was the first to find it
     */
    public boolean lose(Loss why) {
        // whoever finds the loss first announces it: a commit, a watch and a LOST event may race
        if (state == State.ENDED || !lossFound.compareAndSet(false, true)) {
            return false;
        }
        LossListener listener = lossListener;
        if (listener != null) {
            listener.lost(this, why);
        }
        end();
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
     * Runs {@code ops} in one ZooKeeper transaction after a check that this node still exists. The
     * transaction is sent exactly once, never re-sent by a retry loop: a lost reply cannot apply it
     * twice, and an applied transaction is never reported as refused.
     *
     * @throws LeadershipLostException if the node is not VALID here, or is gone on the server;
     *         nothing is applied then
     * @throws ConnectionLossException if the connection dropped before the reply came: the outcome
     *         is unknown (applied or not); also when the calling thread is interrupted while waiting
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
        if (!Sessions.isCurrent(curator, sessionId)) {
            if (Sessions.hasMovedOn(curator, sessionId)) {
                lose(Loss.SESSION_EXPIRED);
            }
            throw new LeadershipLostException(refusal("does not stand on the client's current session"));
        }
        List<Op> zkOps = new ArrayList<>(all.size());
        for (CuratorOp op : all) {
            zkOps.add(op.get());
        }
        SentOnce.Outcome outcome = send(zkOps);
        KeeperException.Code code = KeeperException.Code.get(outcome.rc());
        if (code == KeeperException.Code.OK) {
            return toCuratorResults(all, outcome.results());
        }
        switch (code) {
            case CONNECTIONLOSS, OPERATIONTIMEOUT, REQUESTTIMEOUT -> throw unknown("the connection dropped before"
                    + " the reply came", KeeperException.create(code, path));
            case SESSIONEXPIRED, SESSIONMOVED -> {
                lose(Loss.SESSION_EXPIRED);
                throw new LeadershipLostException(refusal("has ended: its session expired"),
                        KeeperException.create(code, path));
            }
            default -> {
                // the server ran the transaction and refused it: find the op that failed
            }
        }
        int failed = firstFailure(outcome.results());
        if (failed == 0) {
            lose(Sessions.isCurrent(curator, sessionId) ? Loss.NODE_DELETED : Loss.SESSION_EXPIRED);
            throw new LeadershipLostException(refusal("has ended: its node " + path + " is gone"),
                    KeeperException.create(code, path));
        }
        throw refusedOp(failed < 0 ? null : all.get(failed), failed < 0 ? code
                : KeeperException.Code.get(((OpResult.ErrorResult) outcome.results().get(failed)).getErr()));
    }

    private SentOnce.Outcome send(List<Op> ops) {
        CompletableFuture<SentOnce.Outcome> reply = SentOnce.multi(curator, ops);
        long bound = curator.getZookeeperClient().getLastNegotiatedSessionTimeoutMs() + COMMIT_MARGIN_MILLIS;
        try {
            return reply.get(bound, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unknown("the calling thread was interrupted while it waited for the reply", e);
        } catch (TimeoutException e) {
            throw unknown("no reply came within " + bound + " ms", e);
        } catch (ExecutionException e) {
            throw ZkErrors.translate(e.getCause(), "committing a transaction guarded by " + description);
        }
    }

    private ConnectionLossException unknown(String why, Throwable cause) {
        return new ConnectionLossException("committing a transaction guarded by " + description + ": " + why
                + ". The outcome is unknown: the transaction was sent once and may or may not have been applied."
                + " Re-read what it writes before acting on it", cause);
    }

    /** Index of the op that failed, or -1 when the server gave no per-op results. */
    private static int firstFailure(List<OpResult> results) {
        if (results == null) {
            return -1;
        }
        for (int i = 0; i < results.size(); i++) {
            if (results.get(i) instanceof OpResult.ErrorResult err
                    && err.getErr() != KeeperException.Code.OK.intValue()
                    && err.getErr() != KeeperException.Code.RUNTIMEINCONSISTENCY.intValue()) {
                return i;
            }
        }
        return -1;
    }

    private RuntimeException refusedOp(CuratorOp op, KeeperException.Code code) {
        KeeperException cause = KeeperException.create(code);
        if (op == null) {
            return ZkErrors.translate(cause, "committing a transaction guarded by " + description);
        }
        TypeAndPath what = op.getTypeAndPath();
        String where = what.getType().name().toLowerCase() + " of '" + what.getForPath() + "' in a transaction guarded by "
                + description + " was refused";
        String nothing = "; nothing in the transaction was applied";
        return switch (code) {
            case NONODE -> new NoSuchPathException(where + ": the node (or its parent) does not exist" + nothing, cause);
            case NODEEXISTS -> new AlreadyExistsException(where + ": the node already exists" + nothing, cause);
            case BADVERSION -> new VersionConflictException(where + ": its version changed" + nothing
                    + "; re-read and retry", cause);
            case NOTEMPTY -> new DirectoryNotEmptyException(where + ": the node has children" + nothing, cause);
            default -> new ZkRecipeException(where + ": " + code + nothing, cause);
        };
    }

    private List<CuratorTransactionResult> toCuratorResults(List<CuratorOp> ops, List<OpResult> results) {
        List<CuratorTransactionResult> out = new ArrayList<>(results.size());
        for (int i = 0; i < results.size(); i++) {
            TypeAndPath what = ops.get(i).getTypeAndPath();
            OpResult r = results.get(i);
            String resultPath = what.getForPath();
            Stat stat = null;
            if (r instanceof OpResult.CreateResult created) {
                resultPath = withoutNamespace(created.getPath());
                stat = created.getStat();
            } else if (r instanceof OpResult.SetDataResult set) {
                stat = set.getStat();
            }
            OperationType type = what.getType();
            out.add(new CuratorTransactionResult(type, what.getForPath(), resultPath, stat));
        }
        return out;
    }

    private String withoutNamespace(String serverPath) {
        String ns = curator.getNamespace();
        if (serverPath == null || ns == null || ns.isEmpty()) {
            return serverPath;
        }
        String prefix = "/" + ns;
        if (serverPath.equals(prefix)) {
            return "/";
        }
        return serverPath.startsWith(prefix + "/") ? serverPath.substring(prefix.length()) : serverPath;
    }

    private String refusal(String why) {
        return description + " (token " + token + ") " + why + "; the transaction was not applied."
                + " Stop acting on this token and wait to be elected or granted again";
    }

    @Override
    public String toString() {
        return description + "[" + path + ", token " + token + ", " + state + "]";
    }
}
