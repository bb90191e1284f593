package dev.zkrecipes.it.election;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zkrecipes.election.LeaderElector;
import dev.zkrecipes.testing.EmbeddedZk;
import dev.zkrecipes.testing.ZkServers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.zookeeper.server.ServerMetrics;
import org.apache.zookeeper.server.metric.AvgMinMaxCounter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A hand-off among many candidates wakes the successor, not the herd. */
class HandOffHerdIT {

    private static final int CANDIDATES = 100;
    private static final Duration WAIT = Duration.ofSeconds(30);
    @RegisterExtension
    static final EmbeddedZk server = EmbeddedZk.withClients(1);

    /** Watches the server fired, of every kind a hand-off could trigger (the server's own count). */
    private static long watchNotifications() {
        ServerMetrics m = ServerMetrics.getMetrics();
        return total(m.NODE_DELETED_WATCHER) + total(m.NODE_CHILDREN_WATCHER) + total(m.NODE_CHANGED_WATCHER)
                + total(m.NODE_CREATED_WATCHER);
    }

    private static long total(Object summary) {
        return ((AvgMinMaxCounter) summary).getTotal();
    }

    @Test
    void handOffAmongHundredCandidatesFiresAtMostTwoWatches() throws Exception {
        List<LeaderElector> line = new ArrayList<>();
        try {
            for (int i = 0; i < CANDIDATES; i++) {
                LeaderElector e = LeaderElector.builder(server.client(0), "herd").participantId("c" + i).build();
                e.start();
                line.add(e);
            }
            await().atMost(WAIT).until(() -> line.get(0).participants().size() == CANDIDATES);
            // the candidates joined concurrently: put them in election order
            List<String> order = line.get(0).participants().stream().map(p -> p.id()).toList();
            line.sort(java.util.Comparator.comparingInt(e -> order.indexOf(e.participantId())));
            line.get(0).awaitLeadership(WAIT).orElseThrow();

            for (int handOff = 0; handOff < 3; handOff++) {
                LeaderElector leader = line.remove(0);
                LeaderElector successor = line.get(0);
                long before = watchNotifications();

                leader.close();
                successor.awaitLeadership(WAIT).orElseThrow();

                // the successor's watch on the leader's node, and the departing leader's watch on
                // its own node; a herd would fire one per remaining candidate
                long fired = watchNotifications() - before;
                assertThat(fired).as("watches fired by hand-off %d", handOff).isBetween(1L, 2L);
                assertThat(line.stream().filter(LeaderElector::isLeader)).containsExactly(successor);
            }
        } finally {
            line.forEach(ZkServers::closeQuietly);
        }
    }
}
