package dev.zkrecipes.core.internal;

import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorEventType;
import org.apache.zookeeper.Watcher;

/**
 * Hears that a client's SASL login or handshake failed. ZooKeeper's client then stops connecting
 * for good and only says so with an {@code AuthFailed} event; without this, the caller would see
 * a connection that never comes, not a refused login. Also owns the client's in-memory JAAS
 * section, if it has one, for as long as the client lives.
 */
public final class SaslWatch {

    private final String who;
    private final String ownSection;
    private boolean failed;
    private boolean authenticated;

    /**
     * @param who what the login is, for messages ({@code SaslConfig.toString()}: no password)
     * @param ownSection the JAAS section made for this client, removed on {@link #close()}; null if none
     */
    public SaslWatch(String who, String ownSection) {
        this.who = who;
        this.ownSection = ownSection;
    }

    /** Listens on {@code curator}'s events from now on. */
    public void watch(CuratorFramework curator) {
        curator.getCuratorListenable().addListener((client, event) -> {
            if (event.getType() != CuratorEventType.WATCHED || event.getWatchedEvent() == null) {
                return;
            }
            Watcher.Event.KeeperState state = event.getWatchedEvent().getState();
            synchronized (this) {
                if (state == Watcher.Event.KeeperState.AuthFailed) {
                    failed = true;
                } else if (state == Watcher.Event.KeeperState.SaslAuthenticated) {
                    authenticated = true;
                }
                notifyAll();
            }
        });
    }

    /** Whether the ensemble refused the login (or the login itself failed) since the client started. */
    public synchronized boolean failed() {
        return failed;
    }

    /**
     * Waits up to {@code nanos} for the first login's outcome: ZooKeeper grants the session before
     * the SASL exchange, so a connected client is not yet an authenticated one.
     *
     * @return true once authenticated; false if refused (see {@link #failed()}) or not known in time
     */
    public synchronized boolean awaitAuthenticated(long nanos) throws InterruptedException {
        long until = System.nanoTime() + nanos;
        while (!authenticated && !failed) {
            long left = until - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return authenticated && !failed;
    }

    /** What to tell the caller once {@link #failed()}. */
    public String message(String connectString) {
        return "SASL authentication (" + who + ") to " + connectString + " failed: the ensemble refused the credentials,"
                + " or the client could not log in (for a JAAS section: its login module failed). Check the user and"
                + " password against the servers' JAAS Server section, or the client's JAAS section; the client does"
                + " not retry with the same credentials";
    }

    /** Forgets the client's own JAAS section. */
    public void close() {
        if (ownSection != null) {
            SaslLogins.forget(ownSection);
        }
    }
}
