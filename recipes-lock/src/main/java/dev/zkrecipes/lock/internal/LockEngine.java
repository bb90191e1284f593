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
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.curator.framework.imps.ProtectedUtils;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
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
 * uncontended acquire costs one round trip instead of two. While connected they go on ZooKeeper's
 * own handle ({@link DirectOps}); Curator takes over whatever the handle does not settle.
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
 *       interrupt) deletes its node when it lands; a node whose create reply was lost is found by
 *       its protected id, and taken or, if the caller gave up, deleted (Curator's protection does
 *       the same on its path); the waiter's watcher is taken back.
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
    /** The hot path's requests on ZooKeeper's handle; null for a client whose ACLs are not known. */
    private final DirectOps direct;
    /** This lock's node is known to exist (an acquire here succeeded): no need to make it alongside. */
    private volatile boolean lineKnown;

    public LockEngine(CuratorFramework curator, String parentPath, String description, HolderRegistry registry) {
        this.curator = curator;
        this.parentPath = parentPath;
        this.description = description;
        this.registry = registry;
        this.direct = DirectOps.of(curator);
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
    private final class Waiter implements DirectOps.CreatedWatch, Runnable {
        final Semaphore wakeups = new Semaphore(0);
        final AtomicReference<String> deleted = new AtomicReference<>();
        final Set<String> watchedPaths = ConcurrentHashMap.newKeySet();
        /** Our own waiting node, watched so that a grant without a re-read never stands on a deleted node. */
        volatile String ownPath;
        volatile boolean ownGone;
        /** The own-node watch is set and has not fired: a grant can keep it as the hold's watch. */
        volatile boolean ownArmed;
        /** The own-node watch sent with the create ({@link DirectOps}) is not answered yet. */
        volatile boolean ownWatchPending;
        /** The answer to the own-node watch sent with the create; set before it is pending. */
        volatile CompletableFuture<DirectOps.Reply> ownAnswer;
        /** Once granted with the own-node watch kept: the hold that watch now serves. */
        volatile HeldNode heldAs;

        /** Our node is now {@code path}, made through Curator: nothing watches it yet. */
        void unwatched(String path) {
            ownAnswer = null;
            ownPath = path;
            ownGone = false;
            ownArmed = false;
            ownWatchPending = false;
        }

        @Override
        public void created(String path) {
            ownAnswer = new CompletableFuture<>();
            ownPath = path;
            ownGone = false;
            ownArmed = false;
            ownWatchPending = true;
        }

        @Override
        public void watchAnswered(DirectOps.Reply reply) {
            if (!reply.path().equals(ownPath)) {
                return;  // the watch of a node given up before
            }
            if (reply.ok()) {
                ownArmed = true;
            } else if (reply.is(KeeperException.Code.NONODE)) {
                ownGone = true;
            }
            ownWatchPending = false;
            ownAnswer.complete(reply);
            if (ownGone) {
                HeldNode held = heldAs;
                if (held != null) {
                    registry.ownNodeGone(held);
                } else {
                    wakeups.release();
                }
            }
        }

        /**
         * The answer to the own-node watch sent with the create of our node at {@code path}, while it
         * can stand for one sent now: still on its way, or answered and still armed. Null otherwise.
         */
        CompletableFuture<DirectOps.Reply> watchSentWithCreate(String path) {
            CompletableFuture<DirectOps.Reply> answer = ownAnswer;
            if (answer == null || !path.equals(ownPath)) {
                return null;
            }
            if (ownWatchPending) {
                return answer;
            }
            DirectOps.Reply reply = answer.getNow(null);
            return reply != null && reply.ok() && ownArmed ? answer : null;
        }

        /** The own-node watch is set, or on its way: a grant can keep it as the hold's watch. */
        boolean ownWatched(String path) {
            return path.equals(ownPath) && (ownArmed || ownWatchPending);
        }

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
                    Created created = createAndList(policy.nodePrefix(), payload, io, waiter);
                    mine = created.mine;
                    children = created.children;
                    if (mine == null) {
                        continue;
                    }
                    placeChecked = false;
                    if (!created.watched) {
                        waiter.unwatched(mine.path());
                    }
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
                // Watch our own node too, sent first: ZooKeeper delivers a delete of it before the
                // blocker's, so the grant without a re-read below never stands on a deleted node.
                // The watch sent with the create (DirectOps) left first already; else it goes now.
                CompletableFuture<DirectOps.Reply> sentWithCreate = waiter.watchSentWithCreate(ourPath);
                CompletableFuture<CuratorEvent> own = null;
                if (sentWithCreate == null) {
                    waiter.watchedPaths.add(ourPath);
                    own = Background.send(cb -> curator.getData().usingWatcher(waiter).inBackground(cb).forPath(ourPath));
                }
                CuratorEvent watched = Background.await(io, Background.send(
                        cb -> curator.getData().usingWatcher(waiter).inBackground(cb).forPath(blockerPath)));
                int ownCode = own != null ? Background.await(io, own).getResultCode() : io.await(sentWithCreate).rc();
                if (ownCode == KeeperException.Code.NONODE.intValue()) {
                    // our waiting node was deleted (by an operator, say): queue again
                    mine = null;
                    continue;
                }
                if (own == null && ownCode != KeeperException.Code.OK.intValue()) {
                    // the watch sent with the create was lost with its connection: read the line
                    // again (Curator waits for the connection), watching our node through Curator
                    continue;
                }
                if (own != null) {
                    Background.succeeded(Background.await(io, own));
                    waiter.ownArmed = true;
                }
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
        if (waiter.ownWatched(mine.path())) {
            // the watch the waiter set on its own node serves the hold: no request needed
            waiter.heldAs = node;
            if (waiter.ownGone) {
                registry.ownNodeGone(node);
            } else if (!waiter.ownWatched(mine.path())) {
                // it fired or failed just before the hold took it over
                registry.watchOwnNode(node);
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
            bound.await(delete(node.path()));
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

    /**
     * Deletes a node of ours on ZooKeeper's handle when connected; whatever that does not settle (a
     * lost answer) goes on through Curator's guaranteed delete, whose end the future waits for.
     */
    private CompletableFuture<?> delete(String path) {
        ZooKeeper handle = direct != null ? direct.connectedHandle() : null;
        if (handle == null) {
            return deleteThroughCurator(path);
        }
        return direct.delete(handle, path).thenCompose(reply -> reply.ok() || reply.is(KeeperException.Code.NONODE)
                ? CompletableFuture.completedFuture(null) : deleteThroughCurator(path).thenApply(event -> null));
    }

    private CompletableFuture<CuratorEvent> deleteThroughCurator(String path) {
        return Background.send(cb -> curator.delete().guaranteed().inBackground(cb).forPath(path));
    }

    /** Deletes a node of ours without waiting, retrying in the background if the connection is down. */
    public void deleteInBackground(String path) {
        try {
            curator.delete().guaranteed().inBackground().forPath(path);
        } catch (Exception e) {
            LOG.debug("{}: could not delete {} now ({}); the session's end deletes it", description, path, e.toString());
        }
    }

    /** What a create gave: our node (null: create again), the line if read with it, whether the waiter watches the node. */
    private record Created(Mine mine, List<String> children, boolean watched) {

        Created(Mine mine, List<String> children) {
            this(mine, children, false);
        }
    }

    /**
     * Our node at {@code path}, with its stat as created, or read when a create found after a lost
     * answer came without it; null if it is gone already (its session ended meanwhile).
     */
    private Mine mineAt(String path, Stat stat, Deadline deadline) throws Exception {
        if (stat == null || stat.getCzxid() == 0 || stat.getEphemeralOwner() == 0) {
            try {
                stat = Background.call(deadline, cb -> curator.checkExists().inBackground(cb).forPath(path)).getStat();
            } catch (Exception e) {
                deleteInBackground(path);
                throw e;
            }
            if (stat == null) {
                return null;
            }
        }
        return new Mine(path, ZKPaths.getNodeFromPath(path), stat.getCzxid(), stat.getEphemeralOwner());
    }

    /**
     * Sends the create and the read of the line back to back, then waits for both until
     * {@code deadline}. A create the caller stops waiting for deletes its node when it lands.
     * Sent on ZooKeeper's handle when it can ({@link DirectOps}), through Curator otherwise and for
     * whatever the handle does not settle: a missing parent, an answer that is not plain.
     */
    private Created createAndList(String prefix, byte[] payload, Deadline deadline, Waiter waiter) throws Exception {
        ZooKeeper handle = direct != null ? direct.connectedHandle() : null;
        if (handle == null) {
            return createAndListThroughCurator(prefix, payload, deadline);
        }
        String protectedId = UUID.randomUUID().toString();
        String ourPath = ZKPaths.makePath(parentPath, ProtectedUtils.getProtectedPrefix(protectedId) + prefix);
        CompletableFuture<DirectOps.Reply> line = lineKnown ? null
                : direct.create(handle, parentPath, new byte[0], CreateMode.CONTAINER);
        DirectOps.CreatedAndListed sent = direct.createAndList(handle, ourPath, payload, CreateMode.EPHEMERAL_SEQUENTIAL,
                parentPath, waiter);
        CompletableFuture<DirectOps.Reply> create = sent.created();
        CompletableFuture<DirectOps.Reply> list = sent.listed();
        DirectOps.Reply created;
        try {
            created = deadline.await(create);
        } catch (InterruptedException | TimeoutException e) {
            create.thenAccept(late -> {
                if (late.ok()) {
                    deleteInBackground(late.path());
                } else if (late.unknown()) {
                    deleteProtectedInBackground(protectedId);
                }
            });
            throw e;
        }
        if (created.unknown()) {
            // the answer was lost, not necessarily the create: look for our node by its protected id
            return findCreated(protectedId, deadline);
        }
        if (!created.ok()) {
            if (line != null && line.isDone()) {
                refusedFor(line.join().rc(), parentPath);
            }
            refusedFor(created.rc(), ourPath);
            // a missing parent (a new name, or the lock's node reaped as an empty container), an
            // ended session: Curator makes parents and retries on the next session
            lineKnown = false;
            return createAndListThroughCurator(prefix, payload, deadline);
        }
        lineKnown = true;
        Mine mine = new Mine(created.path(), ZKPaths.getNodeFromPath(created.path()), created.stat().getCzxid(),
                created.stat().getEphemeralOwner());
        try {
            DirectOps.Reply listed = deadline.await(list);
            List<String> children = listed.ok() && listed.children().contains(mine.name()) ? listed.children() : null;
            return new Created(mine, children, true);
        } catch (InterruptedException | TimeoutException e) {
            deleteInBackground(mine.path());
            throw e;
        }
    }

    /**
     * After a create whose answer was lost: reads the line (Curator waits for the connection) and
     * takes our node if the create was applied, else says to create again. A session's requests are
     * applied in order, so a create not in the line read after it was not applied and will not be.
     */
    private Created findCreated(String protectedId, Deadline deadline) throws Exception {
        List<String> children;
        try {
            children = Background.call(deadline, cb -> curator.getChildren().inBackground(cb).forPath(parentPath))
                    .getChildren();
        } catch (KeeperException.NoNodeException e) {
            // the lock's node is gone (reaped as an empty container), and with it anything under it
            lineKnown = false;
            return new Created(null, null);
        } catch (Exception e) {
            deleteProtectedInBackground(protectedId);
            throw e;
        }
        String protectedPrefix = ProtectedUtils.getProtectedPrefix(protectedId);
        for (String child : children) {
            if (child.startsWith(protectedPrefix)) {
                return new Created(mineAt(ZKPaths.makePath(parentPath, child), null, deadline), null);
            }
        }
        return new Created(null, null);
    }

    /** Deletes, in the background, the node a lost create of {@code protectedId} may have made. */
    private void deleteProtectedInBackground(String protectedId) {
        String protectedPrefix = ProtectedUtils.getProtectedPrefix(protectedId);
        try {
            curator.getChildren().inBackground((c, event) -> {
                if (event.getResultCode() == KeeperException.Code.OK.intValue()) {
                    for (String child : event.getChildren()) {
                        if (child.startsWith(protectedPrefix)) {
                            deleteInBackground(ZKPaths.makePath(parentPath, child));
                        }
                    }
                }
            }).forPath(parentPath);
        } catch (Exception e) {
            LOG.debug("{}: could not look for the node of a create given up ({}); the session's end deletes it",
                    description, e.toString());
        }
    }

    /** Through Curator: its protected create retries, creates parents and finds a node whose answer was lost. */
    private Created createAndListThroughCurator(String prefix, byte[] payload, Deadline deadline) throws Exception {
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
            refusedFor(line.join().getResultCode(), parentPath);
        }
        Background.succeeded(created);
        String path = created.getName();
        Mine mine = mineAt(path, created.getStat(), deadline);
        if (mine == null) {
            return new Created(null, null);
        }
        lineKnown = true;
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

    /** Throws the refusal {@code resultCode} says, if the ensemble refused a request for lack of rights or of a login. */
    private static void refusedFor(int resultCode, String path) throws KeeperException {
        KeeperException.Code code = KeeperException.Code.get(resultCode);
        if (code == KeeperException.Code.NOAUTH || code == KeeperException.Code.AUTHFAILED
                || code == KeeperException.Code.SESSIONCLOSEDREQUIRESASLAUTH) {
            throw KeeperException.create(code, path);
        }
    }
}
