package dev.zkrecipes.core.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;

/**
 * A transaction sent exactly once, on ZooKeeper's own handle: unlike Curator's operations it is
 * never resent after a connection loss. A resent write can succeed a second time on state that
 * changed in between (a task claimed by someone else meanwhile); sent once, a lost reply completes
 * with {@code CONNECTIONLOSS} and the caller reads back to learn what happened.
 *
 * <p>The future always completes: with the server's answer, or with {@code CONNECTIONLOSS} when
 * the connection the request went out on ends.
 */
public final class SentOnce {

    /** ZooKeeper's answer: its result code and, for a refused transaction, the per-op results. */
    public record Outcome(int rc, List<OpResult> results) {
        public KeeperException.Code code() {
            return KeeperException.Code.get(rc);
        }
    }

    private SentOnce() {
    }

    /** Sends {@code ops} (already namespaced, as {@link CuratorOp#get()} gives them) once. */
    public static CompletableFuture<Outcome> multi(CuratorFramework curator, List<Op> ops) {
        CompletableFuture<Outcome> reply = new CompletableFuture<>();
        try {
            curator.getZookeeperClient().getZooKeeper().multi(ops, (rc, path, ctx, results) ->
                    reply.complete(new Outcome(rc, results)), null);
        } catch (Exception e) {
            reply.completeExceptionally(e);
        }
        return reply;
    }

    /** {@link #multi(CuratorFramework, List)} for Curator's op builders. */
    public static CompletableFuture<Outcome> curatorOps(CuratorFramework curator, List<CuratorOp> ops) {
        List<Op> zkOps = new ArrayList<>(ops.size());
        for (CuratorOp op : ops) {
            zkOps.add(op.get());
        }
        return multi(curator, zkOps);
    }
}
