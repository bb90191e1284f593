package dev.zkrecipes.core.internal;

import org.apache.curator.framework.CuratorFramework;

/** Reads the client's current ZooKeeper session id, the thing a held znode's validity hangs on. */
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
}
