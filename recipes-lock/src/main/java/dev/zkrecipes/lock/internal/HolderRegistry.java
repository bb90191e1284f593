package dev.zkrecipes.lock.internal;

import dev.zkrecipes.core.internal.HeldNode;
import dev.zkrecipes.core.internal.SerialExecutor;
import dev.zkrecipes.core.internal.Sessions;
import dev.zkrecipes.lock.LockListener;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;

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
    private final Set<HeldNode> held = ConcurrentHashMap.newKeySet();
    private final Set<Runnable> waiters = ConcurrentHashMap.newKeySet();
    private final List<LockListener> listeners = new CopyOnWriteArrayList<>();
    private SerialExecutor callbacks;
    private int users;

    public HolderRegistry(CuratorFramework curator, String name) {
        this.curator = curator;
        this.name = name;
    }

    public synchronized void addListener(LockListener listener) {
        if (callbacks == null) {
            callbacks = new SerialExecutor("lock-" + name + "-listener");
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

    public void hold(HeldNode node) {
        held.add(node);
    }

    public void release(HeldNode node) {
        held.remove(node);
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

    private void revalidate(HeldNode node) {
        if (Sessions.currentSessionId(curator) != node.sessionId()) {
            lose(node);
            return;
        }
        try {
            // in the background: this runs on Curator's connection-state thread
            curator.checkExists().inBackground((c, event) -> {
                if (event.getStat() != null) {
                    if (node.resume()) {
                        notify(l -> l.resumed(node.token()));
                    }
                } else {
                    lose(node);
                }
            }).forPath(node.path());
        } catch (Exception e) {
            lose(node);
        }
    }

    private void lose(HeldNode node) {
        if (node.end()) {
            notify(l -> l.lost(node.token()));
        }
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
