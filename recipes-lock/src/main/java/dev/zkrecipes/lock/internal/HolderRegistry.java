package dev.zkrecipes.lock.internal;

import dev.zkrecipes.core.internal.HeldNode;
import dev.zkrecipes.core.internal.SerialExecutor;
import dev.zkrecipes.core.internal.Sessions;
import dev.zkrecipes.lock.LockListener;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;

/**
 * The held nodes and waiters of one lock object, kept in line with the connection: SUSPENDED
 * suspends every hold at once, LOST ends them, RECONNECTED resumes each hold whose session
 * survived and whose node is still there. Waiters are woken on every change so they re-read the
 * line (their watches may be gone with the session).
 *
 * <p>It listens to the connection only while something is held or waited for, so that lock objects
 * made per request do not pile up listeners.
 */
public final class HolderRegistry implements ConnectionStateListener {

    private final CuratorFramework curator;
    private final String name;
    /** Sets the own-node watch on ZooKeeper's handle when it can; null for a client whose ACLs are not known. */
    private final DirectOps direct;
    private final Set<HeldNode> held = ConcurrentHashMap.newKeySet();
    private final Set<Runnable> waiters = ConcurrentHashMap.newKeySet();
    private final Map<HeldNode, Watcher> ownWatchers = new ConcurrentHashMap<>();
    private final List<LockListener> listeners = new CopyOnWriteArrayList<>();
    private SerialExecutor callbacks;
    private int users;

    public HolderRegistry(CuratorFramework curator, String name) {
        this.curator = curator;
        this.name = name;
        this.direct = DirectOps.of(curator);
    }

    public synchronized void addListener(LockListener listener) {
        if (callbacks == null) {
            callbacks = SerialExecutor.forCallbacks("lock-" + name + "-listener", curator);
        }
        listeners.add(listener);
    }

    /** Someone starts waiting or holding: listen to the connection. */
    public synchronized void enter() {
        if (users++ == 0) {
            curator.getConnectionStateListenable().addListener(this);
        }
    }

    /** Someone stopped waiting or holding. */
    public synchronized void exit() {
        if (--users == 0) {
            curator.getConnectionStateListenable().removeListener(this);
        }
    }

    /** Registers a hold; from now on connection changes and its loss on the server reach it. */
    public void hold(HeldNode node) {
        node.onLoss((n, why) -> notify(l -> l.lost(n.token())));
        held.add(node);
        if (Sessions.hasMovedOn(curator, node.sessionId())) {
            node.lose(HeldNode.Loss.SESSION_EXPIRED);
        }
    }

    /**
     * Watches the held node itself, so that a hold whose node is deleted while its session lives (an
     * operator, a stray client) ends at once and is announced, instead of staying valid while
     * another client takes the lock. Re-armed after every other event on the node.
     */
    public void watchOwnNode(HeldNode node) {
        if (node.isEnded()) {
            return;
        }
        // one watcher per hold: ZooKeeper keeps one entry for the same watcher on the same path,
        // so re-arming after a reconnect adds nothing
        Watcher watcher = ownWatchers.computeIfAbsent(node, n -> event -> {
            if (event.getType() == Watcher.Event.EventType.NodeDeleted) {
                ownNodeGone(n);
            } else if (event.getType() != Watcher.Event.EventType.None) {
                watchOwnNode(n);
            }
        });
        ZooKeeper handle = direct != null ? direct.connectedHandle() : null;
        if (handle != null) {
            direct.watch(handle, node.path(), watcher).thenAccept(reply -> {
                if (reply.is(KeeperException.Code.NONODE)) {
                    ownNodeGone(node);
                }
            });
            return;
        }
        try {
            curator.getData().usingWatcher(watcher).inBackground((c, event) -> {
                if (event.getResultCode() == KeeperException.Code.NONODE.intValue()) {
                    ownNodeGone(node);
                }
            }).forPath(node.path());
        } catch (Exception e) {
            // a reconnect re-checks the node anyway
        }
    }

    /** The node is gone on the server: deleted while the session lives, or with the session. */
    public void ownNodeGone(HeldNode node) {
        if (node.isEnded()) {
            return;
        }
        node.lose(Sessions.isCurrent(curator, node.sessionId()) ? HeldNode.Loss.NODE_DELETED : HeldNode.Loss.SESSION_EXPIRED);
    }

    public void release(HeldNode node) {
        held.remove(node);
        ownWatchers.remove(node);
    }

    public void addWaiter(Runnable wakeup) {
        waiters.add(wakeup);
    }

    public void removeWaiter(Runnable wakeup) {
        waiters.remove(wakeup);
    }

    @Override
    public void stateChanged(CuratorFramework client, ConnectionState state) {
        switch (state) {
            case SUSPENDED, READ_ONLY -> forEachHeld(node -> {
                if (node.suspend()) {
                    notify(l -> l.suspended(node.token()));
                }
            });
            case LOST -> forEachHeld(this::lose);
            case CONNECTED, RECONNECTED -> forEachHeld(this::revalidate);
            default -> { }
        }
        waiters.forEach(Runnable::run);
    }

    /**
     * After a reconnect: the hold resumes only if the client is on the node's own session and the
     * server still has the node with that owner. A failed check (the connection dropped again)
     * decides nothing: the hold stays suspended and the next reconnect checks again.
     */
    private void revalidate(HeldNode node) {
        if (Sessions.hasMovedOn(curator, node.sessionId())) {
            node.lose(HeldNode.Loss.SESSION_EXPIRED);
            return;
        }
        if (!Sessions.isCurrent(curator, node.sessionId())) {
            return;
        }
        try {
            // in the background: this runs on Curator's connection-state thread
            curator.checkExists().inBackground((c, event) -> {
                if (event.getResultCode() == KeeperException.Code.OK.intValue() && event.getStat() != null
                        && event.getStat().getEphemeralOwner() == node.sessionId()) {
                    if (node.resume()) {
                        notify(l -> l.resumed(node.token()));
                        watchOwnNode(node);
                    }
                } else if (event.getResultCode() == KeeperException.Code.NONODE.intValue()) {
                    ownNodeGone(node);
                }
            }).forPath(node.path());
        } catch (Exception e) {
            // stays suspended; the next connection change checks again
        }
    }

    private void lose(HeldNode node) {
        node.lose(HeldNode.Loss.SESSION_EXPIRED);
    }

    private void forEachHeld(Consumer<HeldNode> action) {
        for (HeldNode node : held) {
            action.accept(node);
        }
    }

    private void notify(Consumer<LockListener> call) {
        SerialExecutor executor;
        synchronized (this) {
            executor = callbacks;
        }
        if (executor == null) {
            return;
        }
        for (LockListener l : listeners) {
            executor.execute(() -> call.accept(l));
        }
    }
}
