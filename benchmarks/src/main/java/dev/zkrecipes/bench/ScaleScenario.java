package dev.zkrecipes.bench;

import dev.zkrecipes.config.ConfigStore;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.election.LeaderElector;
import dev.zkrecipes.election.Leadership;
import dev.zkrecipes.election.LeadershipListener;
import dev.zkrecipes.election.RevocationReason;
import dev.zkrecipes.lock.DistributedLock;
import dev.zkrecipes.lock.LockHandle;
import dev.zkrecipes.queue.ConsumeOptions;
import dev.zkrecipes.queue.Serializers;
import dev.zkrecipes.queue.Subscription;
import dev.zkrecipes.queue.TaskQueue;
import dev.zkrecipes.testing.Clients;
import dev.zkrecipes.testing.SessionKiller;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;

/**
 * Many recipes on one client, one embedded server (or --connect): for 10, 100 and 1,000 elections (10,000 with
 * {@code --large}) the threads and heap they cost, the time to start them all, and the time to move
 * every leadership to a second client when the first one closes; for as many locks, the time to take
 * them on fresh names and an acquire's latency while they are all held; for 10 to 1,000 config
 * stores and queues, what they cost and how long a change takes to reach every one. Each line ends
 * with the server's own counts (znodes, watches, ephemerals) while the recipes are held.
 * {@code --only=elections,locks,stores,queues} picks sections, {@code --sizes=1000,1000} the sizes.
 */
public final class ScaleScenario implements Scenario {

    @Override
    public void run(String[] args) throws Exception {
        List<String> a = Arrays.asList(args);
        String shared = a.stream().filter(x -> x.startsWith("--shared=")).findFirst().orElse(null);
        if (shared != null) {
            // e.g. --shared=3x3000: 3 clients in each of 3,000 elections, the ensemble's side of scale
            String[] cn = shared.substring("--shared=".length()).split("x");
            try (Ensemble server = Ensemble.open(args)) {
                Report.title("scale: " + cn[0] + " clients in each of " + cn[1] + " elections, on " + server.describe());
                sharedElections(server, Integer.parseInt(cn[0]), Integer.parseInt(cn[1]));
            }
            return;
        }
        int[] sizes = a.stream().filter(x -> x.startsWith("--sizes=")).findFirst()
                .map(x -> Arrays.stream(x.substring("--sizes=".length()).split(",")).mapToInt(Integer::parseInt).toArray())
                .orElse(a.contains("--quick") ? new int[] {10, 100} : a.contains("--large") ? new int[] {10, 100, 1000, 10_000}
                        : new int[] {10, 100, 1000});
        boolean explicitSizes = a.stream().anyMatch(x -> x.startsWith("--sizes="));
        String only = a.stream().filter(x -> x.startsWith("--only=")).map(x -> x.substring("--only=".length()))
                .findFirst().orElse("elections,locks,stores,queues");
        try (Ensemble server = Ensemble.open(args)) {
            if (only.contains("elections")) {
                Report.title("scale: elections on one client (threads and heap are the JVM's, after a GC)");
                for (int n : sizes) {
                    elections(server, n);
                    expiryMove(server, n);
                }
            }
            if (only.contains("locks")) {
                Report.title("scale: locks on one client");
                for (int n : sizes) {
                    locks(server, n);
                }
            }
            if (only.contains("stores")) {
                Report.title("scale: config stores on one client, each with a listener; one writer client");
                for (int n : sizes) {
                    if (n <= 1000 || explicitSizes) {
                        stores(server, n);
                    }
                }
            }
            if (only.contains("queues")) {
                Report.title("scale: queues on one client, each with a one-thread consumer; one producer client");
                for (int n : sizes) {
                    if (n <= 1000) {
                        queues(server, n);
                    }
                }
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

    private static void elections(Ensemble server, int n) throws Exception {
        String connectString = server.getConnectString();
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
            // when each new leader's code is told (its elected callback), whatever close() still does
            Told told = new Told();
            LeadershipListener listener = told.listener();
            for (int i = 0; i < n; i++) {
                LeaderElector e = LeaderElector.builder(second, "scale-" + n + "/e" + i).participantId("second")
                        .listener(listener).build();
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
            String counts = server.serverCounts();
            long t1 = System.nanoTime();
            first.close();  // closes the n leading electors: every leadership moves
            double closeMillis = (System.nanoTime() - t1) / 1e6;
            for (LeaderElector e : followers) {
                e.awaitLeadership(Duration.ofSeconds(60)).orElseThrow();
            }
            double moveMillis = (told.awaitAll(n) - t1) / 1e6;
            String latch = "";
            if (n <= 1000) {
                double[] latchMillis = latchMove(connectString, n);
                latch = String.format(Locale.ROOT, " (LeaderLatch, same run: moved %.0f ms, close() %.0f ms)", latchMillis[0],
                        latchMillis[1]);
            }
            Report.note(String.format(Locale.ROOT, "%6d elections x 2 participants: +%d threads, +%d MiB heap; start %.0f ms;"
                    + " all %d leaderships moved %.0f ms after the leading client began to close (the last new leader"
                    + " told; its close() took %.0f ms)%s; %s", n, threads, heap, startMillis, n, moveMillis, closeMillis, latch, counts));
            for (LeaderElector e : followers) {
                e.close();
            }
        } finally {
            second.close();
            first.close();
        }
    }

    private static void locks(Ensemble server, int n) throws Exception {
        ZkRecipes zk = Clients.connect(server.getConnectString(), Duration.ofSeconds(30));
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
            Report.note(String.format(Locale.ROOT, "%6d locks on fresh names taken in %.0f ms (%.2f ms each), +%d threads; %s",
                    n, takeMillis, takeMillis / n, threads, server.serverCounts()));
            Report.latencyRow("acquire() with " + n + " other locks held", acquire, null, null);
            for (LockHandle h : held) {
                h.close();
            }
        } finally {
            zk.close();
        }
    }

    /** {@code n} config stores open with a listener; how long a put to each takes to reach its listener. */
    private static void stores(Ensemble server, int n) throws Exception {
        int threadsBefore = Thread.activeCount();
        long heapBefore = heapMiB();
        ZkRecipes readers = Clients.connect(server.getConnectString(), Duration.ofSeconds(30));
        ZkRecipes writer = Clients.connect(server.getConnectString(), Duration.ofSeconds(30));
        List<ConfigStore> open = new ArrayList<>();
        try {
            java.util.concurrent.CountDownLatch heard = new java.util.concurrent.CountDownLatch(n);
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                ConfigStore store = ConfigStore.open(readers, "scale-" + n + "/c" + i);
                store.addListener(change -> heard.countDown());
                open.add(store);
            }
            double openMillis = (System.nanoTime() - t0) / 1e6;
            int threads = Thread.activeCount() - threadsBefore;
            long heap = heapMiB() - heapBefore;
            String counts = server.serverCounts();
            long t1 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                try (ConfigStore w = ConfigStore.open(writer, "scale-" + n + "/c" + i)) {
                    w.put("k", "v");
                }
            }
            double putMillis = (System.nanoTime() - t1) / 1e6;
            if (!heard.await(60, java.util.concurrent.TimeUnit.SECONDS)) {
                throw new IllegalStateException("not every listener heard its put within 60 s");
            }
            double heardMillis = (System.nanoTime() - t1) / 1e6;
            Report.note(String.format(Locale.ROOT, "%6d config stores: open %.0f ms (%.2f ms each), +%d threads, +%d MiB heap;"
                    + " a put to each (open, put, close on the writer) %.0f ms, all %d listeners heard %.0f ms after the first"
                    + " put; %s", n, openMillis, openMillis / n, threads, heap, putMillis, n, heardMillis, counts));
        } finally {
            open.forEach(ConfigStore::close);
            writer.close();
            readers.close();
        }
    }

    /** {@code n} queues, each with a one-thread consumer; one task put to each, until every one is handled. */
    private static void queues(Ensemble server, int n) throws Exception {
        int threadsBefore = Thread.activeCount();
        ZkRecipes consumers = Clients.connect(server.getConnectString(), Duration.ofSeconds(30));
        ZkRecipes producer = Clients.connect(server.getConnectString(), Duration.ofSeconds(30));
        List<Subscription> subs = new ArrayList<>();
        try {
            java.util.concurrent.CountDownLatch handled = new java.util.concurrent.CountDownLatch(n);
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                TaskQueue<String> q = TaskQueue.builder(consumers, "scale-" + n + "/q" + i, Serializers.utf8()).build();
                subs.add(q.consume(task -> handled.countDown(), ConsumeOptions.concurrency(1)));
            }
            double startMillis = (System.nanoTime() - t0) / 1e6;
            int threads = Thread.activeCount() - threadsBefore;
            long t1 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                TaskQueue.builder(producer, "scale-" + n + "/q" + i, Serializers.utf8()).build().put("t");
            }
            if (!handled.await(120, java.util.concurrent.TimeUnit.SECONDS)) {
                throw new IllegalStateException("not every queue's task was handled within 120 s");
            }
            double handledMillis = (System.nanoTime() - t1) / 1e6;
            String counts = server.serverCounts();
            Report.note(String.format(Locale.ROOT, "%6d queues with a consumer: started %.0f ms, +%d threads (one per consumer"
                    + " thread: the handler threads are the caller's choice); one task put to each and all handled %.0f ms"
                    + " after the first put; %s", n, startMillis, threads, handledMillis, counts));
        } finally {
            subs.forEach(Subscription::close);
            producer.close();
            consumers.close();
        }
    }

    /**
     * {@code clients} clients each take part in the same {@code n} elections: how long until every
     * election has its leader and everyone is in line, what the server holds then, and how long
     * until every leadership of the first client has moved when it closes.
     */
    private static void sharedElections(Ensemble server, int clients, int n) throws Exception {
        List<ZkRecipes> zks = new ArrayList<>();
        List<List<LeaderElector>> electors = new ArrayList<>();
        try {
            for (int c = 0; c < clients; c++) {
                zks.add(Clients.connect(server.getConnectString(), Duration.ofSeconds(30)));
                electors.add(new ArrayList<>());
            }
            long t0 = System.nanoTime();
            // the first client joins first, so that it leads every election and its close moves them all
            for (int c = 0; c < clients; c++) {
                for (int i = 0; i < n; i++) {
                    LeaderElector e = LeaderElector.builder(zks.get(c), "shared-" + n + "/e" + i).participantId("c" + c).build();
                    e.start();
                    electors.get(c).add(e);
                }
                if (c == 0) {
                    for (LeaderElector e : electors.get(0)) {
                        e.awaitLeadership(Duration.ofSeconds(120)).orElseThrow();
                    }
                }
            }
            for (int i = 0; i < n; i++) {
                LeaderElector probe = electors.get(0).get(i);
                while (probe.participants().size() < clients || probe.currentLeader().isEmpty()) {
                    probe.awaitLeadership(Duration.ofMillis(5));
                }
            }
            double startMillis = (System.nanoTime() - t0) / 1e6;
            int led = 0;
            for (LeaderElector e : electors.get(0)) {
                led += e.isLeader() ? 1 : 0;
            }
            String counts = server.serverCounts();
            long t1 = System.nanoTime();
            zks.get(0).close();
            for (int i = 0; i < n; i++) {
                boolean moved = false;
                while (!moved) {
                    for (int c = 1; c < clients && !moved; c++) {
                        moved = electors.get(c).get(i).isLeader();
                    }
                    if (!moved) {
                        electors.get(1).get(i).awaitLeadership(Duration.ofMillis(5));
                    }
                }
            }
            double moveMillis = (System.nanoTime() - t1) / 1e6;
            Report.note(String.format(Locale.ROOT, "%d clients x %d elections: all led and everyone in line %.0f ms after the"
                    + " first start; %s; the first client led %d of them, all moved %.0f ms after it closed", clients, n,
                    startMillis, counts, led, moveMillis));
        } finally {
            for (int c = 1; c < electors.size(); c++) {
                electors.get(c).forEach(LeaderElector::close);
            }
            zks.forEach(ZkRecipes::close);
        }
    }

    /**
     * Moving {@code n} leaderships when the leading client's session is closed on the server behind
     * its back (what a pause past the session timeout does): from the kill to the last new leader
     * told. Nothing of the leading client takes part; the ensemble and the followers do it all.
     */
    private static void expiryMove(Ensemble server, int n) throws Exception {
        String connectString = server.getConnectString();
        ZkRecipes first = Clients.connect(connectString, Duration.ofSeconds(30));
        ZkRecipes second = Clients.connect(connectString, Duration.ofSeconds(30));
        List<LeaderElector> all = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                LeaderElector e = LeaderElector.builder(first, "scale-expiry-" + n + "/e" + i).participantId("first").build();
                e.start();
                all.add(e);
            }
            for (LeaderElector e : all) {
                e.awaitLeadership(Duration.ofSeconds(60)).orElseThrow();
            }
            Told told = new Told();
            LeadershipListener listener = told.listener();
            List<LeaderElector> followers = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                LeaderElector e = LeaderElector.builder(second, "scale-expiry-" + n + "/e" + i).participantId("second")
                        .listener(listener).build();
                e.start();
                followers.add(e);
            }
            all.addAll(followers);
            for (LeaderElector e : followers) {
                while (e.participants().size() < 2) {
                    e.awaitLeadership(Duration.ofMillis(5));
                }
            }
            long t0 = System.nanoTime();
            SessionKiller.expire(first.curator(), connectString);
            double moveMillis = (told.awaitAll(n) - t0) / 1e6;
            Report.note(String.format(Locale.ROOT, "%6d elections: all %d leaderships moved %.0f ms after the leading"
                    + " client's session was closed on the server (the last new leader told)", n, n, moveMillis));
        } finally {
            for (LeaderElector e : all) {
                e.close();
            }
            second.close();
            first.close();
        }
    }

    /** When new leaders were told: how many so far, and the last one's time. */
    private static final class Told {
        private final AtomicInteger count = new AtomicInteger();
        private final AtomicLong last = new AtomicLong();

        void now() {
            last.accumulateAndGet(System.nanoTime(), Math::max);
            count.incrementAndGet();
        }

        /** An elector's listener that notes each election here. */
        LeadershipListener listener() {
            return new LeadershipListener() {
                @Override
                public void elected(Leadership leadership) {
                    now();
                }

                @Override
                public void revoked(Leadership leadership, RevocationReason reason) {
                }
            };
        }

        /** The time the {@code n}-th leader was told, waiting up to 60 s for it. */
        long awaitAll(int n) throws InterruptedException {
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (count.get() < n) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("only " + count.get() + " of " + n + " new leaders were told within 60 s");
                }
                Thread.sleep(1);
            }
            return last.get();
        }
    }

    /**
     * The same move with Curator's LeaderLatch: {@code n} latches led by one client, each followed by
     * one of another. Returns when the last new leader was told (its isLeader callback) and how long
     * the leading client's close() took, in ms after that close began.
     */
    private static double[] latchMove(String connectString, int n) throws Exception {
        ZkRecipes first = Clients.connect(connectString, Duration.ofSeconds(30));
        ZkRecipes second = Clients.connect(connectString, Duration.ofSeconds(30));
        List<LeaderLatch> followers = new ArrayList<>();
        try {
            List<LeaderLatch> leaders = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                LeaderLatch l = new LeaderLatch(first.curator(), "/bench/latch-scale-" + n + "/e" + i, "first");
                l.start();
                leaders.add(l);
            }
            for (LeaderLatch l : leaders) {
                if (!l.await(60, java.util.concurrent.TimeUnit.SECONDS)) {
                    throw new IllegalStateException("a latch did not lead within 60 s");
                }
            }
            Told told = new Told();
            LeaderLatchListener listener = new LeaderLatchListener() {
                @Override
                public void isLeader() {
                    told.now();
                }

                @Override
                public void notLeader() {
                }
            };
            for (int i = 0; i < n; i++) {
                LeaderLatch l = new LeaderLatch(second.curator(), "/bench/latch-scale-" + n + "/e" + i, "second");
                l.addListener(listener);
                l.start();
                followers.add(l);
            }
            for (LeaderLatch l : followers) {
                while (l.getOurPath() == null) {
                    l.await(5, java.util.concurrent.TimeUnit.MILLISECONDS);
                }
            }
            long t1 = System.nanoTime();
            first.close();
            double closeMillis = (System.nanoTime() - t1) / 1e6;
            for (LeaderLatch l : followers) {
                if (!l.await(60, java.util.concurrent.TimeUnit.SECONDS)) {
                    throw new IllegalStateException("a latch did not take over within 60 s");
                }
            }
            return new double[] {(told.awaitAll(n) - t1) / 1e6, closeMillis};
        } finally {
            for (LeaderLatch l : followers) {
                l.close();
            }
            second.close();
            first.close();
        }
    }
}
