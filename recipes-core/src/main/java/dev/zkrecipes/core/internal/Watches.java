package dev.zkrecipes.core.internal;

import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.Watcher;

/** Takes back a watcher that a recipe no longer needs, so that timed-out waits leave none behind. */
public final class Watches {

    private Watches() {
    }

    /**
     * Removes {@code watcher} from the client's table for {@code path}, without a request to the
     * server: the server's watch on that path may be shared with other watchers of this client, and
     * it fires at most once more. Quiet if the watcher already fired or was never set. Sent in the
     * background, so it never holds up the caller while the client is disconnected.
     */
    public static void removeLocally(CuratorFramework curator, Watcher watcher, String path) {
        try {
            curator.watchers().remove(watcher).ofType(Watcher.WatcherType.Any).locally().quietly().inBackground().forPath(path);
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            // quietly() covers "no such watcher"; anything else leaves one stale watcher, which fires at most once
        }
    }
}
