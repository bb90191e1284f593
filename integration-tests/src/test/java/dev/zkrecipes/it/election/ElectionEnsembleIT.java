package dev.zkrecipes.it.election;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.election.LeaderElector;
import dev.zkrecipes.election.Leadership;
import dev.zkrecipes.testing.Clients;
import dev.zkrecipes.testing.ZkServers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The election on a real 3-node ensemble whose own leader crashes. */
class ElectionEnsembleIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static TestingCluster cluster;

    @BeforeAll
    static void startCluster() {
        cluster = ZkServers.startCluster(3);
    }

    @AfterAll
    static void stopCluster() {
        ZkServers.closeQuietly(cluster);
    }

    @Test
    void electionKeepsExactlyOneLeaderWhenTheEnsembleLeaderIsKilled() throws Exception {
        List<ZkRecipes> clients = new ArrayList<>();
        List<LeaderElector> electors = new ArrayList<>();
        List<RecordingListener> listeners = new ArrayList<>();
        try {
            for (String id : List.of("a", "b", "c")) {
                ZkRecipes zk = Clients.connect(cluster.getConnectString(), Duration.ofSeconds(10));
                RecordingListener listener = new RecordingListener();
                LeaderElector e = LeaderElector.builder(zk, "ensemble").participantId(id).listener(listener).build();
                e.start();
                clients.add(zk);
                electors.add(e);
                listeners.add(listener);
                await().atMost(WAIT).until(() -> e.participants().size() == electors.size());
            }
            Leadership before = electors.get(0).awaitLeadership(WAIT).orElseThrow();
            InstanceSpec ensembleLeader = ZkServers.ensembleLeader(cluster);

            cluster.killServer(ensembleLeader);

            // sessions survive the ensemble's own election: the same term resumes, nobody else leads
            await().atMost(WAIT).until(() -> electors.stream().filter(LeaderElector::isLeader).count() == 1);
            // a commit sent around the moment the client notices the kill is refused while suspended, or
            // goes out on the dead server's connection and comes back "outcome unknown"; an empty
            // guarded commit is safe to send again, and the term that answers must be the same one
            Leadership after = null;
            for (int attempt = 0; after == null; attempt++) {
                Leadership term = electors.get(0).awaitLeadership(WAIT).orElseThrow();
                assertThat(term.token()).isEqualTo(before.token());
                try {
                    term.commit();
                    after = term;
                } catch (dev.zkrecipes.core.ConnectionLossException | dev.zkrecipes.core.LeadershipLostException inDoubt) {
                    assertThat(attempt).as("commits lost to the ensemble's leader change").isLessThan(5);
                }
            }
            assertThat(listeners.get(1).electedCount()).isZero();
            assertThat(listeners.get(2).electedCount()).isZero();

            // and the election still hands off on the surviving quorum
            electors.get(0).close();
            Leadership next = electors.get(1).awaitLeadership(WAIT).orElseThrow();
            assertThat(next.token()).isGreaterThan(before.token());
            assertThat(electors.stream().filter(LeaderElector::isLeader).count()).isEqualTo(1);
            cluster.restartServer(ensembleLeader);
        } finally {
            electors.forEach(ZkServers::closeQuietly);
            clients.forEach(ZkServers::closeQuietly);
        }
    }
}
