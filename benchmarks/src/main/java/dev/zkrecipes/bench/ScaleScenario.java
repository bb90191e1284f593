package dev.zkrecipes.bench;

import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.election.LeaderElector;
import dev.zkrecipes.lock.DistributedLock;
import dev.zkrecipes.lock.LockHandle;
import dev.zkrecipes.testing.Clients;
import dev.zkrecipes.testing.ZkServers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.HdrHistogram.Histogram;
import org.apache.curator.test.TestingServer;

/**
 * Many recipes on one client, one embedded server: for 10, 100 and 1,000 elections (10,000 with
 * {@code --large}) the threads and heap they cost, the time to start them all, and the time to move
 * every leadership to a second client when the first one closes; for as many locks, the time to take
 * them on fresh names and an acquire's latency while they are all held.
 */
public final class ScaleScenario implements Scenario {

    @Override
    public void run(String[] args) throws Exception {
        List<String> a = Arrays.asList(args);
        int[] sizes = a.contains("--quick") ? new int[] {10, 100} : a.contains("--large") ? new int[] {10, 100, 1000, 10_000}
                : new int[] {10, 100, 1000};
        try (Ensemble server = Ensemble.open(args)) {
            Report.title("scale: elections on one client (threads and heap are the JVM's, after a GC)");
            for (int n : sizes) {
                elections(server.getConnectString(), n);
            }
            Report.title("scale: locks on one client");
            for (int n : sizes) {
                locks(server.getConnectString(), n);
            }
        }
    }

    private static long heapMiB() {
        Runtime r = Runtime.getRuntime();
        for (int i = 0; i < 2; i++) {
            System.gc();
        }
        return (r.totalMemory() - r.freeMemory()) >> 20;
    }

    private static void elections(String connectString, int n) throws Exception {
        int threadsBefore = Thread.activeCount();
        long heapBefore = heapMiB();
        ZkRecipes first = Clients.connect(connectString, Duration.ofSeconds(30));
        ZkRecipes second = Clients.connect(connectString, Duration.ofSeconds(30));
        try {
            List<LeaderElector> leaders = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                LeaderElector e = LeaderElector.builder(first, "scale-" + n + "/e" + i).participantId("first").build();
                e.start();
                leaders.add(e);
            }
            for (LeaderElector e : leaders) {
                e.awaitLeadership(Duration.ofSeconds(60)).orElseThrow();
            }
            double startMillis = (System.nanoTime() - t0) / 1e6;
            List<LeaderElector> followers = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                LeaderElector e = LeaderElector.builder(second, "scale-" + n + "/e" + i).participantId("second").build();
                e.start();
                followers.add(e);
            }
            for (LeaderElector e : followers) {
                while (e.participants().size() < 2) {
                    e.awaitLeadership(Duration.ofMillis(5));
                }
            }
            int threads = Thread.activeCount() - threadsBefore;
            long heap = heapMiB() - heapBefore;
            long t1 = System.nanoTime();
            first.close();  // closes the n leading electors: every leadership moves
            for (LeaderElector e : followers) {
                e.awaitLeadership(Duration.ofSeconds(60)).orElseThrow();
            }
            double moveMillis = (System.nanoTime() - t1) / 1e6;
            Report.note(String.format(Locale.ROOT, "%6d elections x 2 participants: +%d threads, +%d MiB heap; start %.0f ms;"
                    + " all %d leaderships moved %.0f ms after the leading client closed", n, threads, heap, startMillis, n,
                    moveMillis));
            for (LeaderElector e : followers) {
                e.close();
            }
        } finally {
            second.close();
            first.close();
        }
    }

    private static void locks(String connectString, int n) throws Exception {
        ZkRecipes zk = Clients.connect(connectString, Duration.ofSeconds(30));
        int threadsBefore = Thread.activeCount();
        try {
            List<LockHandle> held = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                held.add(DistributedLock.of(zk, "scale-" + n + "/l" + i).acquire());
            }
            double takeMillis = (System.nanoTime() - t0) / 1e6;
            Histogram acquire = Report.latencies();
            DistributedLock probe = DistributedLock.of(zk, "scale-" + n + "-probe");
            for (int i = 0; i < 200; i++) {
                long s = System.nanoTime();
                LockHandle h = probe.acquire();
                Report.recordSince(acquire, s);
                h.close();
            }
            int threads = Thread.activeCount() - threadsBefore;
            Report.note(String.format(Locale.ROOT, "%6d locks on fresh names taken in %.0f ms (%.2f ms each), +%d threads",
                    n, takeMillis, takeMillis / n, threads));
            Report.latencyRow("acquire() with " + n + " other locks held", acquire, null, null);
            for (LockHandle h : held) {
                h.close();
            }
        } finally {
            zk.close();
        }
    }
}
