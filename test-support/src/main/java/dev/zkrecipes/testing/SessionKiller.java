package dev.zkrecipes.testing;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;

/**
 * Expires a client's session on the server, in the dangerous order: the server drops the session
 * and deletes its ephemeral nodes while the victim still believes it holds them; the victim only
 * learns of it when it next hears from the server. This is what a long GC pause or a partition does,
 * unlike Curator's client-side {@code injectSessionExpiration}, after which the server keeps the
 * ephemerals until the timeout.
 */
public final class SessionKiller {

    private SessionKiller() {
    }

    /**
     * Connects a second handle with the victim's session id and password to {@code serverConnectString}
     * (a server's own address, not a blackholed proxy) and closes it, which closes the session on the
     * ensemble. Returns once the close is done.
     */
    public static void expire(CuratorFramework victim, String serverConnectString) {
        try {
            ZooKeeper zk = victim.getZookeeperClient().getZooKeeper();
            expire(zk.getSessionId(), zk.getSessionPasswd(), serverConnectString);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("could not read the victim's session", e);
        }
    }

    /** Closes the session {@code sessionId} on the ensemble. */
    public static void expire(long sessionId, byte[] password, String serverConnectString) {
        CountDownLatch connected = new CountDownLatch(1);
        try {
            ZooKeeper killer = new ZooKeeper(serverConnectString, 10_000, event -> {
                // Expired: the server already dropped the session (a fault before this one did it)
                if (event.getState() == Watcher.Event.KeeperState.SyncConnected
                        || event.getState() == Watcher.Event.KeeperState.Expired) {
                    connected.countDown();
                }
            }, sessionId, password);
            try {
                if (!connected.await(10, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("could not attach to session 0x" + Long.toHexString(sessionId));
                }
            } finally {
                killer.close();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while expiring a session", e);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("could not connect to " + serverConnectString, e);
        }
    }
}
