package dev.zkrecipes.lock.internal;

import dev.zkrecipes.core.internal.Background;
import dev.zkrecipes.core.internal.Deadline;
import dev.zkrecipes.core.internal.HeldNode;
import dev.zkrecipes.core.internal.SaslRefusals;
import dev.zkrecipes.core.internal.Sessions;
import dev.zkrecipes.core.internal.Watches;
import dev.zkrecipes.core.internal.ZkErrors;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.data.Stat;
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
 *
 * <p>Rules that hold whatever the network does:
 * <ul>
 *   <li>A hold is granted only on a node whose ephemeral owner is the client's current session,
 *       checked after the read that found it first. A node of a session the client gave up (an
 *       outage longer than the session timeout) may still be on a restarted server for a while; it
 *       is deleted and the acquire queues again with a node of the new session.
 *   <li>Every wait goes through one {@link Deadline}: a timed acquire returns within its timeout,
 *       connected or not. Operations are sent in the background, so Curator's retry loop never
 *       holds the caller past it.
 *   <li>Nothing is left behind: a create still in flight when the caller gives up (timeout,
 *       interrupt) deletes its node when it lands; Curator's protection finds and deletes a node
 *       whose create reply was lost and whose retries ran out; the waiter's watcher is taken back.
 * </ul>
 */
public final class LockEngine {

    private static final Logger LOG = LoggerFactory.getLogger(LockEngine.class);

    /**
     * How long past the caller's timeout a round trip may still finish: a {@code tryAcquire(0)}
     * gets to send its create and read the line once, and a stalled network costs at most this.
     */
    public static final long IO_GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

    private final CuratorFramework curator;
    private final String parentPath;
    private final String description;
    private final HolderRegistry registry;
    /** This lock's node is known to exist (an acquire here succeeded): no need to make it alongside. */
    private volatile boolean lineKnown;

    public LockEngine(CuratorFramework curator, String parentPath, String description, HolderRegistry registry) {
        this.curator = curator;
        this.parentPath = parentPath;
        this.description = description;
        this.registry = registry;
    }

    public String parentPath() {
        return parentPath;
    }

    public String description() {
        return description;
    }

    /** Our node in the line, with what the server said about it when it was created. */
    private record Mine(String path, String name, long czxid, long sessionId) {
    }

    /** The wake-ups of one waiting acquire: watch events and connection changes. */
    private final class Waiter implements Watcher, Runnable {
        final Semaphore wakeups = new Semaphore(0);
        final AtomicReference<String> deleted = new AtomicReference<>();
        final Set<String> watchedPaths = ConcurrentHashMap.newKeySet();
        /** Our own waiting node, watched so that a grant without a re-read never stands on a deleted node. */
        volatile String ownPath;
        volatile boolean ownGone;
        /** The own-node watch is set and has not fired: a grant can keep it as the hold's watch. */
        volatile boolean ownArmed;
        /** Once granted with the own-node watch kept: the hold that watch now serves. */
        volatile HeldNode heldAs;

        @Override
        public void process(WatchedEvent event) {
            if (event.getType() != Event.EventType.None && event.getPath() != null) {
                // a watch that fired is gone from the client already: nothing to take back
                watchedPaths.remove(event.getPath());
            }
            boolean onOwn = event.getPath() != null && event.getPath().equals(ownPath);
            if (onOwn && event.getType() != Event.EventType.None) {
                ownArmed = false;
                HeldNode held = heldAs;
                if (held != null) {
                    // the waiter's watch on its node became the hold's: hand the event to the registry
                    if (event.getType() == Event.EventType.NodeDeleted) {
                        registry.ownNodeGone(held);
                    } else {
                        registry.watchOwnNode(held);
                    }
                    return;
                }
            }
            if (event.getType() == Event.EventType.NodeDeleted) {
                deleted.set(event.getPath());
                if (event.getPath() != null && event.getPath().equals(ownPath)) {
                    ownGone = true;
                }
            }
            if (event.getType() != Event.EventType.None) {
                wakeups.release();
            }
        }

        @Override
        public void run() {
            wakeups.release();
        }

        /** Waits for a wake-up until {@code deadline}; false when it passed. */
        boolean await(Deadline deadline) throws InterruptedException {
            if (deadline.isNever()) {
                wakeups.acquire();
                return true;
            }
            long left = deadline.remainingNanos();
            return left > 0 && wakeups.tryAcquire(left, TimeUnit.NANOSECONDS);
        }
    }

    /**
     * Waits until {@code policy} lets a new node of ours hold, and registers the hold with the
     * registry before anyone can see it, suspended at once if the connection dropped meanwhile.
     *
     * @return the held node, or null if the deadline passed (nothing of ours is left then)
     * @throws InterruptedException if interrupted (nothing of ours is left then either)
     */
    public HeldNode acquireHeld(Policy policy, byte[] payload, Deadline deadline) throws InterruptedException {
        registry.enter();
        HeldNode node = null;
        try {
            node = acquire(policy, payload, deadline);
            return node;
        } finally {
            if (node == null) {
                registry.exit();
            }
        }
    }

    private HeldNode acquire(Policy policy, byte[] payload, Deadline deadline) throws InterruptedException {
        Deadline io = deadline.extendedBy(IO_GRACE_NANOS);
        Waiter waiter = new Waiter();
        registry.addWaiter(waiter);
        Mine mine = null;
        boolean held = false;
        boolean placeChecked = false;
        try {
            List<String> children = null;
            while (true) {
                if (mine == null) {
                    Created created = createAndList(policy.nodePrefix(), payload, io);
                    mine = created.mine;
                    children = created.children;
                    if (mine == null) {
                        continue;
                    }
                    placeChecked = false;
                    waiter.ownPath = mine.path();
                    waiter.ownGone = false;
                }
                if (!Sessions.isCurrent(curator, mine.sessionId())) {
                    if (Sessions.hasMovedOn(curator, mine.sessionId())) {
                        // the session that owns our node is over for this client: never hold on it
                        deleteInBackground(mine.path());
                        mine = null;
                        continue;
                    }
                    // no session right now: a connection change wakes us
                    if (!waiter.await(deadline)) {
                        throw new TimeoutException("no session");
                    }
                    children = null;
                    continue;
                }
                if (children == null) {
                    children = Background.call(io, cb -> curator.getChildren().inBackground(cb).forPath(parentPath))
                            .getChildren();
                }
                List<String> line = LockNode.line(children);
                children = null;
                if (!placeChecked) {
                    policy.checkPlace(line, mine.name());
                    placeChecked = true;
                }
                int index = line.indexOf(mine.name());
                if (index < 0) {
                    // our node is gone (its session ended, or somebody deleted it): queue again
                    mine = null;
                    continue;
                }
                String blocker = policy.blocker(line, index);
                if (blocker == null) {
                    if (!Sessions.isCurrent(curator, mine.sessionId())) {
                        continue;
                    }
                    held = true;
                    return hold(mine, waiter);
                }
                waiter.wakeups.drainPermits();
                if (blocker.equals(Policy.WATCH_CHILDREN)) {
                    waiter.watchedPaths.add(parentPath);
                    children = Background.call(io,
                            cb -> curator.getChildren().usingWatcher(waiter).inBackground(cb).forPath(parentPath)).getChildren();
                    if (!LockNode.line(children).equals(line)) {
                        continue;
                    }
                    children = null;
                    if (!waiter.await(deadline)) {
                        return null;
                    }
                    continue;
                }
                String blockerPath = ZKPaths.makePath(parentPath, blocker);
                boolean sole = policy.soleBlocker(line, index);
                waiter.watchedPaths.add(blockerPath);
                String ourPath = mine.path();
                waiter.watchedPaths.add(ourPath);
                // Watch our own node too, sent first: ZooKeeper delivers a delete of it before the
                // blocker's, so the grant without a re-read below never stands on a deleted node.
                CompletableFuture<CuratorEvent> own = Background.send(
                        cb -> curator.getData().usingWatcher(waiter).inBackground(cb).forPath(ourPath));
                CuratorEvent watched = Background.await(io, Background.send(
                        cb -> curator.getData().usingWatcher(waiter).inBackground(cb).forPath(blockerPath)));
                CuratorEvent ownState = Background.await(io, own);
                if (ownState.getResultCode() == KeeperException.Code.NONODE.intValue()) {
                    // our waiting node was deleted (by an operator, say): queue again
                    mine = null;
                    continue;
                }
                Background.succeeded(ownState);
                waiter.ownArmed = true;
                if (watched.getResultCode() == KeeperException.Code.NONODE.intValue()) {
                    if (sole && !waiter.ownGone && Sessions.isCurrent(curator, mine.sessionId())) {
                        held = true;
                        return hold(mine, waiter);
                    }
                    continue;
                }
                Background.succeeded(watched);
                if (!waiter.await(deadline)) {
                    return null;
                }
                if (sole && blockerPath.equals(waiter.deleted.get()) && !waiter.ownGone
                        && Sessions.isCurrent(curator, mine.sessionId())) {
                    // the only node ahead that mattered is gone, and nodes only join behind us
                    held = true;
                    return hold(mine, waiter);
                }
            }
        } catch (InterruptedException e) {
            throw e;
        } catch (TimeoutException e) {
            if (SaslRefusals.refused(curator)) {
                // not a lock someone else holds: the ensemble would not serve this client at all
                throw ZkErrors.translate(curator, e, "acquiring " + description);
            }
            return null;
        } catch (Exception e) {
            throw ZkErrors.translate(curator, e, "acquiring " + description);
        } finally {
            registry.removeWaiter(waiter);
            for (String watched : waiter.watchedPaths) {
                if (waiter.heldAs == null || !watched.equals(waiter.ownPath)) {
                    Watches.removeLocally(curator, waiter, watched);
                }
            }
            if (!held && mine != null) {
                deleteInBackground(mine.path());
            }
        }
    }

    /** Makes the hold known to the registry first, then checks nothing changed since the grant. */
    private HeldNode hold(Mine mine, Waiter waiter) {
        HeldNode node = new HeldNode(curator, mine.path(), mine.czxid(), mine.sessionId(), description);
        registry.hold(node);
        if (!curator.getZookeeperClient().isConnected()) {
            // the connection dropped between the read that granted the hold and now
            node.suspend();
        }
        if (waiter.ownArmed && mine.path().equals(waiter.ownPath)) {
            // the watch the waiter set on its own node serves the hold: no request needed
            waiter.heldAs = node;
            if (waiter.ownGone) {
                registry.ownNodeGone(node);
            }
        } else {
            registry.watchOwnNode(node);
        }
        return node;
    }

    /**
     * Ends a hold from {@link #acquireHeld}: deletes the node, waiting for the deletion until
     * {@code bound} passes, so that the next waiter can usually take the lock as soon as this returns.
     * If ZooKeeper does not answer in time, Curator keeps deleting it in the background (and the
     * session's end deletes it anyway).
     *
     * @return true if the hold had already been lost (session expired, node deleted) before this release
     */
    public boolean releaseHeld(HeldNode node, Deadline bound) {
        registry.release(node);
        boolean lost = node.isEnded();
        node.end();
        try {
            CompletableFuture<CuratorEvent> deleted = Background.send(
                    cb -> curator.delete().guaranteed().inBackground(cb).forPath(node.path()));
            bound.await(deleted);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.info("{}: released, but its node {} is not deleted yet ({}); Curator keeps deleting it in the"
                    + " background, and the session's end deletes it anyway", description, node.path(), e.toString());
        } finally {
            registry.exit();
        }
        return lost;
    }

    /** Deletes a node of ours without waiting, retrying in the background if the connection is down. */
    public void deleteInBackground(String path) {
        try {
            curator.delete().guaranteed().inBackground().forPath(path);
        } catch (Exception e) {
            LOG.debug("{}: could not delete {} now ({}); the session's end deletes it", description, path, e.toString());
        }
    }

    private record Created(Mine mine, List<String> children) {
    }

    /**
     * Sends the create and the read of the line back to back, then waits for both until
     * {@code deadline}. A create the caller stops waiting for deletes its node when it lands.
     */
    private Created createAndList(String prefix, byte[] payload, Deadline deadline) throws Exception {
        CompletableFuture<CuratorEvent> line = null;
        if (!lineKnown) {
            // First use here, maybe of a new name: make the lock's node in the same round trip, ahead
            // of ours, instead of finding it missing and creating parents segment by segment after.
            // An existing node fails this alone; ours is created below either way, and Curator still
            // creates any missing parent when it has to.
            line = Background.send(cb -> curator.create().withMode(CreateMode.CONTAINER).inBackground(cb).forPath(parentPath));
        }
        CompletableFuture<CuratorEvent> create = Background.send(cb -> curator.create().creatingParentContainersIfNeeded()
                .withProtection().withMode(CreateMode.EPHEMERAL_SEQUENTIAL).inBackground(cb)
                .forPath(ZKPaths.makePath(parentPath, prefix), payload));
        CompletableFuture<CuratorEvent> list = Background.send(cb -> curator.getChildren().inBackground(cb).forPath(parentPath));
        CuratorEvent created;
        try {
            created = Background.await(deadline, create);
        } catch (InterruptedException | TimeoutException e) {
            Background.deleteWhenCreated(curator, create);
            throw e;
        }
        if (created.getResultCode() != KeeperException.Code.OK.intValue() && line != null && line.isDone()) {
            // the lock's node refused for lack of rights, or of a login the ensemble requires, is the
            // reason to tell (the server may drop the connection after it: ours then only met that)
            refusedFor(line.join());
        }
        Background.succeeded(created);
        String path = created.getName();
        Stat stat = created.getStat();
        if (stat == null || stat.getCzxid() == 0 || stat.getEphemeralOwner() == 0) {
            // Curator's protection found our node after a lost reply, without the stat: read it
            try {
                stat = Background.call(deadline, cb -> curator.checkExists().inBackground(cb).forPath(path)).getStat();
            } catch (Exception e) {
                deleteInBackground(path);
                throw e;
            }
            if (stat == null) {
                // gone already (its session ended meanwhile): the caller creates another
                return new Created(null, null);
            }
        }
        lineKnown = true;
        Mine mine = new Mine(path, ZKPaths.getNodeFromPath(path), stat.getCzxid(), stat.getEphemeralOwner());
        List<String> children = null;
        try {
            CuratorEvent listed = Background.await(deadline, list);
            if (listed.getResultCode() == 0 && listed.getChildren().contains(mine.name())) {
                children = listed.getChildren();
            }
            // otherwise the read overtook the create (Curator retried the create): read again
        } catch (InterruptedException | TimeoutException e) {
            deleteInBackground(path);
            throw e;
        }
        return new Created(mine, children);
    }

    /** Throws the refusal in {@code reply}, if the ensemble refused it for lack of rights or of a login. */
    private static void refusedFor(CuratorEvent reply) throws KeeperException {
        KeeperException.Code code = KeeperException.Code.get(reply.getResultCode());
        if (code == KeeperException.Code.NOAUTH || code == KeeperException.Code.AUTHFAILED
                || code == KeeperException.Code.SESSIONCLOSEDREQUIRESASLAUTH) {
            throw KeeperException.create(code, reply.getPath());
        }
    }
}
