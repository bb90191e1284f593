package dev.zkrecipes.testing;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.KeeperException;

/** What an operator (or a hostile trial) does to a running ensemble, for fault tests. */
public final class Operator {

    private Operator() {
    }

    /**
     * Deletes the node first in line under {@code parent} (by its 10-digit sequence suffix): the
     * current leader's or holder's node. Does nothing if the line is empty or not there yet.
     */
    public static void deleteFirstInLine(CuratorFramework operator, String parent) throws Exception {
        List<String> line;
        try {
            line = operator.getChildren().forPath(parent);
        } catch (KeeperException.NoNodeException nobodyYet) {
            return;
        }
        line.sort(Comparator.comparing(n -> n.substring(Math.max(0, n.length() - 10))));
        if (!line.isEmpty()) {
            operator.delete().quietly().forPath(parent + "/" + line.get(0));
        }
    }

    /**
     * Stops the server for {@code downFor} (longer than the clients' session to expire them), then
     * restarts it on the same port and data: the server restores the old sessions from its snapshot
     * and expires them only after a session timeout, so clients may see their old nodes for a while.
     */
    public static void outage(TestingServer server, Duration downFor) throws Exception {
        server.stop();
        await().pollDelay(downFor).atMost(downFor.plusSeconds(5)).until(() -> true);
        server.restart();
    }
}
