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
    /** The login of the current connection: unknown until ZooKeeper says, again after every disconnect. */
    private enum Login { PENDING, OK, FAILED }

    private Login login = Login.PENDING;

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
                switch (state) {
                    case AuthFailed -> {
                        login = Login.FAILED;
                        SaslRefusals.loginFailed(curator, true);
                    }
                    case SaslAuthenticated -> {
                        login = Login.OK;
                        SaslRefusals.loginFailed(curator, false);
                    }
                    // every new connection logs in again. Not reset on SyncConnected: a login that
                    // fails in the client itself says AuthFailed before the connection comes up
                    case Disconnected, Expired -> login = Login.PENDING;
                    default -> { }
                }
                notifyAll();
            }
        });
    }

    /** Whether the login of the current connection failed (refused by the ensemble, or in the client). */
    public synchronized boolean failed() {
        return login == Login.FAILED;
    }

    /** Whether the current connection is logged in. */
    public synchronized boolean authenticated() {
        return login == Login.OK;
    }

    /**
     * Waits up to {@code nanos} for the current connection's login to be known: ZooKeeper grants the
     * session before the SASL exchange, so a connected client is not yet an authenticated one.
     *
     * @return true once authenticated; false if it failed (see {@link #failed()}) or is not known in time
     */
    public synchronized boolean awaitAuthenticated(long nanos) throws InterruptedException {
        long until = System.nanoTime() + nanos;
        while (login == Login.PENDING) {
            long left = until - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return login == Login.OK;
    }

    /** What to tell the caller once {@link #failed()}. */
    public String message(String connectString) {
        return "SASL authentication (" + who + ") to " + connectString + " failed: the ensemble refused the credentials"
                + " (or has no SASL), or the client could not log in (a JAAS section missing, its login module failing)."
                + " Check the user and password against the servers' JAAS Server section, or the client's JAAS section."
                + " A refusal by the ensemble is final for this client; a login that failed in the client is tried again"
                + " on the next reconnect";
    }

    /** Forgets the client's own JAAS section. */
    public void close() {
        if (ownSection != null) {
            SaslLogins.forget(ownSection);
        }
    }
}
