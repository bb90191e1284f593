package dev.zkrecipes.it.docs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zkrecipes.core.LeadershipLostException;
import dev.zkrecipes.election.LeaderElector;
import dev.zkrecipes.election.Leadership;
import dev.zkrecipes.testing.EmbeddedZk;
import dev.zkrecipes.testing.ProxiedClient;
import dev.zkrecipes.testing.TokenHistory;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The example the README points to ("Testing your own service under faults"): how a user of
 * zk-recipes puts a service of their own through a partition with test-support. The service here
 * is a small scheduler: while it leads, it records each run in a shared znode, fenced by its term.
 * Its leader is cut off (blackholed) for longer than its session; the test asserts that the other
 * instance takes over and that no run from the cut-off leader landed after the new leader's.
 */
class YourServiceUnderFaultsIT {

    @RegisterExtension
    static final EmbeddedZk zk = EmbeddedZk.withClients(1);

    private static final Duration SESSION = Duration.ofSeconds(2);
    private static final String RUNS = "/example/scheduler-runs";

    /** The service under test: runs jobs while it leads; every run is a write fenced by the term. */
    static final class Scheduler implements AutoCloseable {
        final ProxiedClient client;
        final LeaderElector elector;
        final AtomicBoolean stop = new AtomicBoolean();
        final Thread loop;

        Scheduler(String id, TokenHistory runs) {
            client = zk.proxiedClient(SESSION);
            elector = LeaderElector.builder(client.zk(), "example-scheduler").participantId(id).build();
            elector.start();
            loop = new Thread(() -> {
                while (!stop.get()) {
                    try {
                        Optional<Leadership> term = elector.awaitLeadership(Duration.ofMillis(100));
                        if (term.isPresent()) {
                            byte[] token = ByteBuffer.allocate(8).putLong(term.get().token().value()).array();
                            java.util.List<CuratorTransactionResult> r = term.get().commit(
                                    client.zk().curator().transactionOp().setData().forPath(RUNS, token));
                            runs.landed(r.get(r.size() - 1).getResultStat().getVersion(), term.get().token().value());
                        }
                    } catch (LeadershipLostException | IllegalStateException refused) {
                        // not (or no longer) the leader: the fence did its job
                    } catch (Exception e) {
                        // connection trouble: try again
                    }
                }
            }, "scheduler-" + id);
            loop.start();
        }

        @Override
        public void close() throws Exception {
            stop.set(true);
            loop.join(5000);
            elector.close();
            client.close();
        }
    }

    @Test
    void theSchedulerFailsOverAndNoStaleRunLandsWhenItsLeaderIsCutOff() throws Exception {
        zk.client(0).curator().create().creatingParentsIfNeeded().forPath(RUNS);
        TokenHistory runs = new TokenHistory();
        try (Scheduler a = new Scheduler("a", runs); Scheduler b = new Scheduler("b", runs)) {
            await().atMost(Duration.ofSeconds(10)).until(() -> runs.size() > 5);
            Scheduler leader = a.elector.isLeader() ? a : b;
            Scheduler other = leader == a ? b : a;

            leader.client.proxy().blackhole();  // a partition: the leader's packets go nowhere
            await().atMost(Duration.ofSeconds(20)).until(other.elector::isLeader);
            int before = runs.size();
            await().atMost(Duration.ofSeconds(10)).until(() -> runs.size() > before + 5);
            leader.client.proxy().heal();

            assertThat(runs.violations()).as("a run from a former leader landed after a newer leader's").isEmpty();
            assertThat(runs.distinctTokens()).hasSizeGreaterThanOrEqualTo(2);
        }
    }
}
