package dev.zkrecipes.lock.internal;

import dev.zkrecipes.core.internal.HeldNode;
import dev.zkrecipes.core.internal.SequentialNodes;
import dev.zkrecipes.core.internal.Sessions;
import dev.zkrecipes.core.internal.ZkErrors;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The acquire algorithm every lock kind shares: create a protected ephemeral-sequential node, read
 * the line, hold if the {@link Policy} says so, otherwise watch the one node that blocks us (or the
 * line) and read again when it changes.
 *
 * <p>The create and the first read of the line are sent back to back without waiting for each other:
 * ZooKeeper applies one session's requests in order, so the read already sees the new node, and an
 * uncontended acquire costs one round trip instead of two.
 */
public final class LockEngine {

    private static final Logger LOG = LoggerFactory.getLogger(LockEngine.class);

    private final CuratorFramework curator;
    private final String parentPath;
    private final String description;
    private final HolderRegistry registry;

    public LockEngine(CuratorFramework curator, String parentPath, String description, HolderRegistry registry) {
        this.curator = curator;
        this.parentPath = parentPath;
        this.description = description;
        this.registry = registry;
    }

    public String parentPath() {
        return parentPath;
    }

    /**
     * Waits until {@code policy} lets a new node of ours hold.
     *
     * @param timeoutNanos how long to wait; negative waits for ever
     * @return the held node, or null if the timeout passed (our node is deleted then)
     * @throws InterruptedException if interrupted (our node is deleted first)
     */
    public HeldNode acquire(Policy policy, byte[] payload, long timeoutNanos) throws InterruptedException {
        long deadline = timeoutNanos < 0 ? Long.MAX_VALUE : System.nanoTime() + timeoutNanos;
        Semaphore wakeups = new Semaphore(0);
        Runnable wakeup = wakeups::release;
        java.util.concurrent.atomic.AtomicReference<String> deleted = new java.util.concurrent.atomic.AtomicReference<>();
        Watcher watcher = event -> {
            if (event.getType() == Watcher.Event.EventType.NodeDeleted) {
                deleted.set(event.getPath());
            }
            if (event.getType() != Watcher.Event.EventType.None) {
                wakeups.release();
            }
        };
        registry.addWaiter(wakeup);
        String ourPath = null;
        boolean held = false;
        try {
            Created created = createAndList(policy.kind(), payload);
            ourPath = created.path;
            List<String> children = created.children;
            while (true) {
                if (children == null) {
                    children = curator.getChildren().forPath(parentPath);
                }
                List<String> line = SequentialNodes.sorted(children);
                children = null;
                int index = line.indexOf(ZKPaths.getNodeFromPath(ourPath));
                if (index < 0) {
                    // our node is gone with its session: start over on the new one
                    created = createAndList(policy.kind(), payload);
                    ourPath = created.path;
                    children = created.children;
                    continue;
                }
                String blocker = policy.blocker(line, index);
                if (blocker == null) {
                    held = true;
                    return new HeldNode(curator, ourPath, created.czxid, created.sessionId, description);
                }
                wakeups.drainPermits();
                if (blocker.equals(Policy.WATCH_CHILDREN)) {
                    children = curator.getChildren().usingWatcher(watcher).forPath(parentPath);
                    if (!SequentialNodes.sorted(children).equals(line)) {
                        continue;
                    }
                    children = null;
                } else {
                    String blockerPath = ZKPaths.makePath(parentPath, blocker);
                    boolean sole = policy.soleBlocker(line, index);
                    try {
                        curator.getData().usingWatcher(watcher).forPath(blockerPath);
                    } catch (KeeperException.NoNodeException gone) {
                        if (sole && Sessions.currentSessionId(curator) == created.sessionId) {
                            held = true;
                            return new HeldNode(curator, ourPath, created.czxid, created.sessionId, description);
                        }
                        continue;
                    }
                    if (!await(wakeups, deadline)) {
                        return null;
                    }
                    if (sole && blockerPath.equals(deleted.get()) && Sessions.currentSessionId(curator) == created.sessionId) {
                        // the only node ahead that mattered is gone, and nodes only join behind us
                        held = true;
                        return new HeldNode(curator, ourPath, created.czxid, created.sessionId, description);
                    }
                    continue;
                }
                if (!await(wakeups, deadline)) {
                    return null;
                }
            }
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            throw ZkErrors.translate(e, "acquiring " + description);
        } finally {
            registry.removeWaiter(wakeup);
            if (!held && ourPath != null) {
                deleteQuietly(ourPath);
            }
        }
    }

    /**
     * {@link #acquire} for a holder that follows the connection: registered with the registry while
     * it waits and while it holds, suspended at once if the connection dropped as it was granted.
     *
     * @return the held node, or null on timeout
     */
    public HeldNode acquireHeld(Policy policy, byte[] payload, long timeoutNanos) throws InterruptedException {
        registry.enter();
        HeldNode node;
        try {
            node = acquire(policy, payload, timeoutNanos);
        } catch (RuntimeException | InterruptedException | Error e) {
            registry.exit();
            throw e;
        }
        if (node == null) {
            registry.exit();
            return null;
        }
        registry.hold(node);
        if (!curator.getZookeeperClient().isConnected()) {
            // the connection dropped between the read that granted the hold and now
            node.suspend();
        }
        return node;
    }

    /**
     * Ends a hold from {@link #acquireHeld}: deletes the node before returning, so that the next
     * waiter can take it at once.
     *
     * @return true if the hold had already been lost (session expired) before this release
     */
    public boolean releaseHeld(HeldNode node) {
        registry.release(node);
        boolean lost = node.isEnded();
        node.end();
        try {
            deleteQuietly(node.path());
        } finally {
            registry.exit();
        }
        return lost;
    }

    /** Waits for a wake-up until {@code deadline} ({@link Long#MAX_VALUE}: for ever); false on timeout. */
    private static boolean await(Semaphore wakeups, long deadline) throws InterruptedException {
        if (deadline == Long.MAX_VALUE) {
            wakeups.acquire();
            return true;
        }
        long left = deadline - System.nanoTime();
        return left > 0 && wakeups.tryAcquire(left, TimeUnit.NANOSECONDS);
    }

    /** Deletes a node of ours, retrying in the background if the connection is down. */
    public void deleteQuietly(String path) {
        try {
            curator.delete().quietly().guaranteed().forPath(path);
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            LOG.debug("{}: could not delete {} now ({}); Curator keeps trying in the background", description, path,
                    e.toString());
        }
    }

    private record Created(String path, long czxid, long sessionId, List<String> children) {
    }

    /** Sends the create and the read of the line back to back, then waits for both. */
    private Created createAndList(String kind, byte[] payload) throws Exception {
        CompletableFuture<CuratorEvent> create = new CompletableFuture<>();
        CompletableFuture<CuratorEvent> list = new CompletableFuture<>();
        curator.create().creatingParentContainersIfNeeded().withProtection().withMode(CreateMode.EPHEMERAL_SEQUENTIAL)
                .inBackground((c, event) -> create.complete(event))
                .forPath(ZKPaths.makePath(parentPath, kind + "-"), payload);
        curator.getChildren().inBackground((c, event) -> list.complete(event)).forPath(parentPath);
        CuratorEvent created = awaitEvent(create, true);
        if (created.getResultCode() != 0) {
            throw KeeperException.create(KeeperException.Code.get(created.getResultCode()), created.getPath());
        }
        String path = created.getName();
        long czxid = created.getStat() != null ? created.getStat().getCzxid() : curator.checkExists().forPath(path).getCzxid();
        long sessionId = Sessions.currentSessionId(curator);
        CuratorEvent listed = awaitEvent(list, false);
        List<String> children = listed.getResultCode() == 0 ? listed.getChildren() : null;
        if (children != null && !children.contains(ZKPaths.getNodeFromPath(path))) {
            // the read overtook the create (Curator retried the create, e.g. to make the parent)
            children = null;
        }
        return new Created(path, czxid, sessionId, children);
    }

    private CuratorEvent awaitEvent(CompletableFuture<CuratorEvent> future, boolean isCreate) throws Exception {
        try {
            // Curator's background operations retry by the retry policy and then report the error;
            // the bound here only guards against a lost callback.
            return future.get(5, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            if (!isCreate) {
                // the read was sent after our create: it answers right behind it
                try {
                    return future.get(5, TimeUnit.SECONDS);
                } catch (TimeoutException | ExecutionException late) {
                    throw e;
                } finally {
                    Thread.currentThread().interrupt();
                }
            }
            // the create is on its way: wait for it briefly so that its node is not left behind
            try {
                CuratorEvent late = future.get(2, TimeUnit.SECONDS);
                if (late.getName() != null && late.getResultCode() == 0) {
                    deleteQuietly(late.getName());
                }
            } catch (TimeoutException | ExecutionException | InterruptedException ignored) {
                // the session's end deletes it
            }
            throw e;
        } catch (ExecutionException e) {
            throw (Exception) e.getCause();
        }
    }
}
