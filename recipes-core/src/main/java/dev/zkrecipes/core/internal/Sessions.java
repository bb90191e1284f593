package dev.zkrecipes.core.internal;

import org.apache.curator.framework.CuratorFramework;

/**
 * Reads the client's current ZooKeeper session id, the thing a held znode's validity hangs on.
 *
 * <p>The id reads 0 while the client has no session (a new handle still connecting): that means
 * "unknown", never "gone". A right is granted only on a node whose session {@link #isCurrent is
 * current}; it is taken away for a session change only when the client {@link #hasMovedOn has moved
 * on} to another session.
 */
public final class Sessions {

    private Sessions() {
    }

    /** The session id of the client's current ZooKeeper handle, or 0 when it has none yet. */
    public static long currentSessionId(CuratorFramework curator) {
        try {
            return curator.getZookeeperClient().getZooKeeper().getSessionId();
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            return 0;
        }
    }

    /** True if {@code sessionId} is the client's session right now (never for 0). */
    public static boolean isCurrent(CuratorFramework curator, long sessionId) {
        return sessionId != 0 && currentSessionId(curator) == sessionId;
    }

    /** True if the client has a session and it is not {@code sessionId}: that session is over for us. */
    public static boolean hasMovedOn(CuratorFramework curator, long sessionId) {
        long current = currentSessionId(curator);
        return current != 0 && current != sessionId;
    }
}
