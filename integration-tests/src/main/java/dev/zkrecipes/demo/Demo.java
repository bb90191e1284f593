package dev.zkrecipes.demo;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.election.LeaderElector;
import dev.zkrecipes.election.LeaderObserver;
import dev.zkrecipes.election.Leadership;
import dev.zkrecipes.election.LeadershipListener;
import dev.zkrecipes.election.Participant;
import dev.zkrecipes.election.RevocationReason;
import dev.zkrecipes.testing.Clients;
import dev.zkrecipes.testing.ZkServers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.curator.test.TestingServer;

/**
 * A guided run of leader election on an embedded ZooKeeper server: three electors join, one leads
 * with a fencing token, the leader leaves and the next takes over, a guarded write from the old
 * term is refused. Run it with {@code mvn -q -pl integration-tests -am compile exec:java}.
 */
public final class Demo {

    private static final long START = System.nanoTime();

    private Demo() {
    }

    public static void main(String[] args) throws Exception {
        // the embedded server's own start-up warnings are noise for a newcomer
        System.setProperty("org.slf4j.simpleLogger.log.org.apache.zookeeper", "error");
        try (TestingServer server = ZkServers.startServer()) {
            say("embedded ZooKeeper server on " + server.getConnectString());
            List<ZkRecipes> clients = new ArrayList<>();
            List<LeaderElector> electors = new ArrayList<>();
            try {
                ZkRecipes watcherClient = Clients.connect(server.getConnectString());
                clients.add(watcherClient);
                LeaderObserver observer = LeaderObserver.of(watcherClient, "scheduler");
                observer.addListener(leader -> say("  observer: leader is now "
                        + leader.map(p -> p.id() + " at " + p.dataAsString() + " (token " + p.token() + ")").orElse("nobody")));

                for (int i = 1; i <= 3; i++) {
                    String id = "node-" + i;
                    ZkRecipes zk = Clients.connect(server.getConnectString());
                    clients.add(zk);
                    LeaderElector e = LeaderElector.builder(zk, "scheduler").participantId(id)
                            .data(("10.0.0." + i + ":8080").getBytes(UTF_8)).listener(printer(id)).build();
                    e.start();
                    electors.add(e);
                    say(id + " joined election 'scheduler'");
                    if (i == 1) {
                        e.awaitLeadership(Duration.ofSeconds(10)).orElseThrow();
                    }
                }
                waitFor(() -> electors.get(0).participants().size() == 3);
                say("in line: " + describe(electors.get(0).participants()));

                LeaderElector first = electors.get(0);
                Leadership oldTerm = first.awaitLeadership(Duration.ofSeconds(5)).orElseThrow();
                say(first.participantId() + " writes through its term: commit(...) applied under token " + oldTerm.token());
                oldTerm.commit();

                say("closing the leader " + first.participantId() + " ...");
                long closeAt = System.nanoTime();
                first.close();
                Leadership next = electors.get(1).awaitLeadership(Duration.ofSeconds(10)).orElseThrow();
                say(String.format(Locale.ROOT, "hand-off done: %s leads with token %s (> %s), %.1f ms after close()",
                        electors.get(1).participantId(), next.token(), oldTerm.token(), (System.nanoTime() - closeAt) / 1e6));
                try {
                    oldTerm.commit();
                } catch (dev.zkrecipes.core.LeadershipLostException refused) {
                    say("a late write from the old term is refused: " + refused.getMessage());
                }

                say(electors.get(1).participantId() + " resigns and rejoins at the back ...");
                electors.get(1).resign();
                electors.get(2).awaitLeadership(Duration.ofSeconds(10)).orElseThrow();
                waitFor(() -> electors.get(2).participants().size() == 2);
                say("in line: " + describe(electors.get(2).participants()));
                observer.close();
            } finally {
                electors.forEach(LeaderElector::close);
                clients.forEach(ZkRecipes::close);
            }
            say("done. Every term had a larger token than the one before; only the current leader could write.");
        }
        System.exit(0);
    }

    private static LeadershipListener printer(String id) {
        return new LeadershipListener() {
            @Override
            public void elected(Leadership leadership) {
                say("  " + id + ": elected, token " + leadership.token());
            }

            @Override
            public void revoked(Leadership leadership, RevocationReason reason) {
                say("  " + id + ": revoked (" + reason + "), token " + leadership.token() + " no longer valid");
            }
        };
    }

    private static String describe(List<Participant> line) {
        StringBuilder b = new StringBuilder();
        for (Participant p : line) {
            b.append(b.length() == 0 ? "" : " -> ").append(p.id()).append(" (token ").append(p.token()).append(')');
        }
        return b.toString();
    }

    private static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
            Thread.onSpinWait();
            Thread.sleep(10);
        }
    }

    private static synchronized void say(String line) {
        System.out.printf(Locale.ROOT, "[%6.3fs] %s%n", (System.nanoTime() - START) / 1e9, line);
    }
}
