package dev.zkrecipes.bench;

import dev.zkrecipes.core.LeadershipLostException;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.election.LeaderElector;
import dev.zkrecipes.election.Leadership;
import dev.zkrecipes.election.LeadershipListener;
import dev.zkrecipes.election.RevocationReason;
import dev.zkrecipes.testing.Clients;
import dev.zkrecipes.testing.LoopbackProxy;
import dev.zkrecipes.testing.SessionKiller;
import dev.zkrecipes.testing.ZkServers;
import java.io.Closeable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.HdrHistogram.Histogram;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.state.SessionConnectionStateErrorPolicy;
import org.apache.curator.framework.state.StandardConnectionStateErrorPolicy;
import org.apache.curator.retry.RetryNTimes;
import org.apache.curator.test.TestingCluster;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

/**
 * Election figures: graceful hand-off latency on one server and on a 3-node ensemble (next to
 * Curator's LeaderLatch and the raw-client floor), the split-brain window after a server-side
 * session close and after a silent partition (next to LeaderLatch), and crash failover time minus
 * the session timeout.
 *
 * <p>Arguments: {@code --quick} (fewer hand-offs and fault runs), {@code --handoffs=N} (hand-offs
 * per kind, default 60), {@code --handoff-only} (the hand-offs alone, one server and 3-node) or
 * {@code --split-only} (one server). Properties: {@code -Dzkr.seed=} (fault phase jitter),
 * {@code -Dzkr.trace=true} (timeline of every fault run: connection states, callbacks, the stale
 * commit), {@code -Dzkr.poll=true} (also poll the successor's isLeader() during hand-offs).
 * The "diag" rows split each hand-off at the moment a bystander raw client's watch on the leader's
 * node fires: before it is the leader's side (close → delete applied), after it the successor's.
 */
public final class ElectionScenario implements Scenario {

    private static final int CANDIDATES = 5;
    private static final Duration PARTITION_SESSION = Duration.ofSeconds(3);
    private static final long SEED = Long.getLong("zkr.seed", System.nanoTime());
    private static final Random JITTER = new Random(SEED);

    /** One kind of candidate: ours, LeaderLatch. */
    private interface Candidate extends Closeable {
        boolean isLeader();

        @Override
        void close();
    }

    private interface CandidateFactory {
        /** Where this kind keeps its line of ephemeral-sequential nodes. */
        default String linePath() {
            return this == OURS ? "/zkr/elections/bench" : "/bench/latch";
        }

        /** A started candidate on {@code client} whose {@code elected} callback stamps {@code electedAt}. */
        Candidate start(ZkRecipes client, String id, AtomicLong electedAt) throws Exception;
    }

    /** The latest term any of our candidates was elected to: the fault runs try a stale commit with it. */
    private static volatile Leadership lastTerm;

    static final boolean TRACE = Boolean.getBoolean("zkr.trace");
    /** Poll the successor's isLeader() during hand-offs (a diagnostic that costs CPU on a small box). */
    static final boolean POLL = Boolean.getBoolean("zkr.poll");
    /** The thread parked until the next elected stamp: hand-offs wait like the raw floor does, parked. */
    private static volatile Thread waiter;

    private static void wakeWaiter() {
        Thread w = waiter;
        if (w != null) {
            LockSupport.unpark(w);
        }
    }

    private static void awaitStamp(AtomicLong stamp, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        waiter = Thread.currentThread();
        try {
            while (stamp.get() == 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IllegalStateException("timed out after " + timeout);
                }
                LockSupport.parkNanos(left);
            }
        } finally {
            waiter = null;
        }
    }
    static final ConcurrentLinkedQueue<String> EVENTS = new ConcurrentLinkedQueue<>();
    static long t0;
    static void trace(String what) {
        if (TRACE) {
            EVENTS.add(String.format(Locale.ROOT, "%9.3f ms [%s] %s", (System.nanoTime() - t0) / 1e6, Thread.currentThread().getName(), what));
        }
    }

    private static final CandidateFactory OURS = (zk, id, electedAt) -> {
        LeaderElector e = LeaderElector.builder(zk, "bench").participantId(id).listener(new LeadershipListener() {
            @Override
            public void elected(Leadership leadership) {
                trace(id + " elected " + leadership);
                lastTerm = leadership;
                electedAt.compareAndSet(0, System.nanoTime());
                wakeWaiter();
            }

            @Override
            public void revoked(Leadership leadership, RevocationReason reason) {
                trace(id + " revoked " + leadership + " " + reason);
            }
        }).build();
        e.start();
        return new Candidate() {
            @Override
            public boolean isLeader() {
                return e.isLeader();
            }

            @Override
            public void close() {
                e.close();
            }
        };
    };

    private static final CandidateFactory LATCH = (zk, id, electedAt) -> {
        LeaderLatch latch = new LeaderLatch(zk.curator(), "/bench/latch", id);
        latch.addListener(new LeaderLatchListener() {
            @Override
            public void isLeader() {
                trace(id + " latch isLeader");
                electedAt.compareAndSet(0, System.nanoTime());
                wakeWaiter();
            }

            @Override
            public void notLeader() {
                trace(id + " latch notLeader");
            }
        });
        latch.start();
        return new Candidate() {
            @Override
            public boolean isLeader() {
                return latch.hasLeadership();
            }

            @Override
            public void close() {
                try {
                    latch.close();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        };
    };

    @Override
    public void run(String[] args) throws Exception {
        boolean quick = Arrays.asList(args).contains("--quick");
        int handOffs = Arrays.stream(args).filter(a -> a.startsWith("--handoffs=")).findFirst()
                .map(a -> Integer.parseInt(a.substring("--handoffs=".length()))).orElse(quick ? 20 : 60);
        if (Arrays.asList(args).contains("--handoff-only")) {
            try (TestingServer server = ZkServers.startServer()) {
                handOff("one server", server.getConnectString(), handOffs);
            }
            try (TestingCluster cluster = ZkServers.startCluster(3)) {
                handOff("3-node ensemble", cluster.getConnectString(), handOffs);
            }
            return;
        }
        if (Arrays.asList(args).contains("--split-only")) {
            try (TestingServer server = ZkServers.startServer()) {
                splitBrain(server, quick ? 2 : 5);
            }
            return;
        }
        if (Ensemble.external(args).isPresent()) {
            // the fault figures need servers of their own to break: only the hand-off runs there
            try (Ensemble ensemble = Ensemble.open(args)) {
                handOff(ensemble.describe(), ensemble.getConnectString(), handOffs);
            }
            return;
        }
        int runs = quick ? 2 : 5;
        try (TestingServer server = ZkServers.startServer()) {
            handOff("one server", server.getConnectString(), handOffs);
            splitBrain(server, runs);
        }
        try (TestingCluster cluster = ZkServers.startCluster(3)) {
            handOff("3-node ensemble", cluster.getConnectString(), handOffs);
        }
    }

    // ---- graceful hand-off ----

    private static void handOff(String topology, String connectString, int handOffs) throws Exception {
        List<ZkRecipes> clients = new ArrayList<>();
        // a bystander raw handle that watches the leader's node too: when its watch fires splits each
        // hand-off into the leader's side (close → delete applied, watches sent) and the successor's
        ZooKeeper observer = RawZk.connect(connectString);
        for (int i = 0; i < CANDIDATES; i++) {
            clients.add(Clients.connect(connectString));
        }
        try {
            int warmup = 10;
            Histogram ours = Report.latencies();
            Histogram latch = Report.latencies();
            Histogram floor = Report.latencies();
            Histogram oursSeen = Report.latencies();
            Histogram latchSeen = Report.latencies();
            Histogram[] oursSplit = {Report.latencies(), Report.latencies()};
            Histogram[] latchSplit = {Report.latencies(), Report.latencies()};
            Histogram[] floorSplit = {Report.latencies(), Report.latencies()};
            // alternate in rounds so that neither side gets the warmer JIT or a quieter machine
            int rounds = 3;
            for (int round = 0; round < rounds; round++) {
                int n = handOffs / rounds + (round == 0 ? warmup : 0);
                handOffs(clients, OURS, n, round == 0 ? warmup : 0, ours, oursSeen, observer, oursSplit);
                handOffs(clients, LATCH, n, round == 0 ? warmup : 0, latch, latchSeen, observer, latchSplit);
                rawFloor(connectString, n, round == 0 ? warmup : 0, floor, observer, floorSplit);
            }
            Report.title("election, graceful hand-off on " + topology + ": leader's close() → successor's elected ("
                    + CANDIDATES + " candidates)");
            Report.latencyRow("zk-recipes LeaderElector", ours, floor, "floor");
            Report.latencyRow("", ours, latch, "LeaderLatch");
            Report.latencyRow("Curator LeaderLatch", latch, floor, "floor");
            Report.latencyRow("raw floor: delete → watch → getChildren", floor, null, null);
            // where the time goes: polled (~0.1 ms resolution) successor's isLeader() turning true
            if (POLL) {
                Report.latencyRow("  diag: ours, successor's isLeader() true", oursSeen, floor, "floor");
                Report.latencyRow("  diag: LeaderLatch, hasLeadership() true", latchSeen, floor, "floor");
            }
            Report.latencyRow("  diag: ours, close() → bystander's watch fires", oursSplit[0], floorSplit[0], "floor's");
            Report.latencyRow("  diag: ours, bystander's watch → elected", oursSplit[1], floorSplit[1], "floor's");
            Report.latencyRow("  diag: latch, close() → bystander's watch", latchSplit[0], floorSplit[0], "floor's");
            Report.latencyRow("  diag: latch, bystander's watch → isLeader", latchSplit[1], floorSplit[1], "floor's");
            Report.latencyRow("  diag: floor, delete() → bystander's watch", floorSplit[0], null, null);
            Report.latencyRow("  diag: floor, bystander's watch → done", floorSplit[1], null, null);
        } finally {
            clients.forEach(ZkRecipes::close);
            observer.close();
        }
    }

    /** {@code n} hand-offs among 5 candidates, each closed leader replaced at the back of the line. */
    private static void handOffs(List<ZkRecipes> clients, CandidateFactory factory, int n, int warmup, Histogram h,
            Histogram seen, ZooKeeper observer, Histogram[] split) throws Exception {
        List<Candidate> line = new ArrayList<>();
        List<AtomicLong> stamps = new ArrayList<>();
        List<ZkRecipes> owners = new ArrayList<>();
        int ids = 0;
        for (ZkRecipes zk : clients) {
            AtomicLong stamp = new AtomicLong();
            line.add(factory.start(zk, "c" + ids++, stamp));
            stamps.add(stamp);
            owners.add(zk);
            if (line.size() == 1) {
                awaitTrue(() -> line.get(0).isLeader(), Duration.ofSeconds(10));
            }
            // join in a known order: wait until the candidate has its node
            awaitQuiet();
        }
        try {
            for (int i = 0; i < n; i++) {
                Candidate leader = line.remove(0);
                stamps.remove(0);
                ZkRecipes freed = owners.remove(0);
                AtomicLong successorStamp = stamps.get(0);
                Candidate successor = line.get(0);
                AtomicLong seenAt = new AtomicLong();
                AtomicLong bystander = watchHead(observer, factory.linePath());
                long start = System.nanoTime();
                leader.close();
                if (POLL) {
                    awaitTrue(() -> {
                        if (seenAt.get() == 0 && successor.isLeader()) {
                            seenAt.set(System.nanoTime());
                        }
                        return successorStamp.get() != 0;
                    }, Duration.ofSeconds(10));
                } else {
                    awaitStamp(successorStamp, Duration.ofSeconds(10));
                }
                if (i >= warmup) {
                    h.recordValue(Math.max(1, (successorStamp.get() - start) / 1000));
                    long seenNanos = seenAt.get() != 0 ? Math.min(seenAt.get(), successorStamp.get()) : successorStamp.get();
                    seen.recordValue(Math.max(1, (seenNanos - start) / 1000));
                    awaitTrue(() -> bystander.get() != 0, Duration.ofSeconds(10));
                    split[0].recordValue(Math.max(1, (bystander.get() - start) / 1000));
                    split[1].recordValue(Math.max(1, (successorStamp.get() - bystander.get()) / 1000));
                }
                AtomicLong stamp = new AtomicLong();
                line.add(factory.start(freed, "c" + ids++, stamp));
                stamps.add(stamp);
                owners.add(freed);
                awaitQuiet();
            }
        } finally {
            line.forEach(Candidate::close);
        }
    }

    /** The floor: delete of the leader's node → the successor's data watch fires → its getChildren returns. */
    /** Sets a data watch on the head of the line at {@code linePath}; the returned stamp is set when it fires. */
    private static AtomicLong watchHead(ZooKeeper observer, String linePath) throws Exception {
        List<String> line = new ArrayList<>(observer.getChildren(linePath, false));
        line.sort(Comparator.comparing(name -> name.substring(name.length() - 10)));
        return watchNode(observer, linePath + "/" + line.get(0));
    }

    private static AtomicLong watchNode(ZooKeeper observer, String path) throws Exception {
        AtomicLong fired = new AtomicLong();
        observer.getData(path, event -> {
            if (event.getType() == Watcher.Event.EventType.NodeDeleted) {
                fired.compareAndSet(0, System.nanoTime());
            }
        }, null);
        return fired;
    }

    private static void rawFloor(String connectString, int n, int warmup, Histogram h, ZooKeeper observer,
            Histogram[] split) throws Exception {
        ZooKeeper leader = RawZk.connect(connectString);
        ZooKeeper successor = RawZk.connect(connectString);
        String parent = "/bench/raw-election";
        try {
            try {
                leader.create("/bench", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            } catch (org.apache.zookeeper.KeeperException.NodeExistsException ignored) {
                // made by an earlier round
            }
            try {
                leader.create(parent, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            } catch (org.apache.zookeeper.KeeperException.NodeExistsException ignored) {
                // made by an earlier round
            }
            for (int i = 0; i < n; i++) {
                String leaderNode = leader.create(parent + "/n_", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL_SEQUENTIAL);
                String successorNode = successor.create(parent + "/n_", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL_SEQUENTIAL);
                CountDownLatch done = new CountDownLatch(1);
                AtomicLong end = new AtomicLong();
                successor.getData(leaderNode, event -> {
                    if (event.getType() == Watcher.Event.EventType.NodeDeleted) {
                        successor.getChildren(parent, false, (rc, path, ctx, children) -> {
                            end.set(System.nanoTime());
                            done.countDown();
                        }, null);
                    }
                }, null);
                AtomicLong bystander = watchNode(observer, leaderNode);
                // the same pause before each hand-off as the recipes get: an idle machine wakes slower
                // than one in a tight loop, and the floor must not gain from that
                awaitQuiet();
                long start = System.nanoTime();
                leader.delete(leaderNode, -1);
                if (!done.await(10, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("the successor's watch did not fire");
                }
                if (i >= warmup) {
                    h.recordValue(Math.max(1, (end.get() - start) / 1000));
                    awaitTrue(() -> bystander.get() != 0, Duration.ofSeconds(10));
                    split[0].recordValue(Math.max(1, (bystander.get() - start) / 1000));
                    split[1].recordValue(Math.max(1, (end.get() - bystander.get()) / 1000));
                }
                successor.delete(successorNode, -1);
            }
        } finally {
            leader.close();
            successor.close();
        }
    }

    // ---- split brain and failover ----

    private static void splitBrain(TestingServer server, int runs) throws Exception {
        Report.title("election, split-brain window: how long the old leader still says isLeader() after the new one"
                + " is elected (" + runs + " runs each)");
        long[] oursClose = new long[runs];
        long[] latchClose = new long[runs];
        long[] oursPartition = new long[runs];
        long[] latchPartition = new long[runs];
        long[] oursFailover = new long[runs];
        long[] latchFailover = new long[runs];
        int refused = 0;
        int byServer = 0;
        for (int r = 0; r < runs; r++) {
            Outcome o = fault(server, OURS, false);
            oursClose[r] = o.windowMicros;
            refused += o.staleCommitRefused ? 1 : 0;
            byServer += o.refusedByServer ? 1 : 0;
            latchClose[r] = fault(server, LATCH, false).windowMicros;
            o = fault(server, OURS, true);
            oursPartition[r] = o.windowMicros;
            oursFailover[r] = o.failoverMicros;
            refused += o.staleCommitRefused ? 1 : 0;
            byServer += o.refusedByServer ? 1 : 0;
            Outcome l = fault(server, LATCH, true);
            latchPartition[r] = l.windowMicros;
            latchFailover[r] = l.failoverMicros;
        }
        windowRow("server-side session close, zk-recipes", oursClose);
        windowRow("server-side session close, LeaderLatch", latchClose);
        windowRow("silent partition (blackhole), zk-recipes", oursPartition);
        windowRow("silent partition, LeaderLatch (Session policy)", latchPartition);
        Report.note("zk-recipes: a guarded commit from the old term (tried when the successor was elected and again"
                + " after sampling) was refused in " + refused + " of " + (2 * runs) + " runs; " + byServer
                + " of them by the server while the old leader still believed its term valid");
        Report.note("LeaderLatch: default (Standard) error policy for the session close, Session policy for the partition;"
                + " fault phase jittered over one 200 ms tick, seed " + SEED + " (-Dzkr.seed=)");
        Report.title("election, crash failover time minus the session timeout (" + PARTITION_SESSION.toMillis()
                + " ms), leader's connection silently dead");
        failoverRow("zk-recipes LeaderElector", oursFailover);
        failoverRow("Curator LeaderLatch", latchFailover);
    }

    private record Outcome(long windowMicros, long failoverMicros, boolean staleCommitRefused,
            boolean refusedByServer) {
    }

    /**
     * Old leader A and successor B. Either closes A's session on the server, or blackholes A's
     * connection (a silent partition). Samples A's isLeader() until well after B is elected.
     */
    private static Outcome fault(TestingServer server, CandidateFactory factory, boolean partition) throws Exception {
        LoopbackProxy proxy = LoopbackProxy.to(server.getPort());
        CuratorFramework aCurator = CuratorFrameworkFactory.builder().connectString(proxy.connectString())
                .sessionTimeoutMs((int) PARTITION_SESSION.toMillis()).connectionTimeoutMs(3000)
                .retryPolicy(new RetryNTimes(3, 100))
                // the issue: LeaderLatch gets the Session error policy in the silent partition only;
                // the server-side close compares both recipes on Curator's default (Standard) policy
                .connectionStateErrorPolicy(partition && factory == LATCH ? new SessionConnectionStateErrorPolicy()
                        : new StandardConnectionStateErrorPolicy()).build();
        aCurator.getConnectionStateListenable().addListener((c, st) -> trace("a state " + st));
        aCurator.start();
        aCurator.blockUntilConnected(10, TimeUnit.SECONDS);
        ZkRecipes a = ZkRecipes.wrap(aCurator);
        ZkRecipes b = Clients.connect(server.getConnectString(), PARTITION_SESSION);
        Candidate oldLeader = null;
        Candidate successor = null;
        try {
            AtomicLong aElected = new AtomicLong();
            oldLeader = factory.start(a, "a", aElected);
            Candidate old = oldLeader;
            // the elected callback has run (it records the term before stamping)
            awaitTrue(() -> old.isLeader() && aElected.get() != 0, Duration.ofSeconds(10));
            Leadership oldTerm = lastTerm;
            AtomicLong bElected = new AtomicLong();
            successor = factory.start(b, "b", bElected);
            awaitQuiet();
            AtomicLong lastTrue = new AtomicLong();
            Thread sampler = new Thread(() -> {
                boolean was = true;
                while (!Thread.currentThread().isInterrupted()) {
                    boolean now = old.isLeader();
                    if (now != was) {
                        trace("sampler: old isLeader " + now);
                        was = now;
                    }
                    if (now) {
                        lastTrue.set(System.nanoTime());
                    }
                    LockSupport.parkNanos(20_000);
                }
            });
            sampler.setDaemon(true);
            sampler.start();
            // The stale write the moment the successor is elected, from a thread of its own (the
            // fault injection below blocks the main thread for a while): inside the overlap, if there
            // is one, so that the refusal has to come from the server, not from the old leader's state.
            AtomicBoolean staleValid = new AtomicBoolean();
            AtomicBoolean staleRefused = new AtomicBoolean();
            Thread staleWriter = new Thread(() -> {
                if (factory != OURS) {
                    return;
                }
                while (bElected.get() == 0 && !Thread.currentThread().isInterrupted()) {
                    LockSupport.parkNanos(20_000);
                }
                staleValid.set(oldTerm.isValid());
                staleRefused.set(staleCommitRefused(oldTerm));
            });
            staleWriter.setDaemon(true);
            staleWriter.start();
            // The server expires sessions in 200 ms tick buckets, and back-to-back runs would otherwise
            // hit the same phase of that tick every time: spread the fault over one tick.
            TimeUnit.MICROSECONDS.sleep(JITTER.nextInt(200_000));
            // one round trip right before the fault, so the server's last sight of the old leader is
            // "now" and (failover - session timeout) is not shortened by however long it sat idle
            aCurator.checkExists().forPath("/");
            EVENTS.clear();
            t0 = System.nanoTime();
            long faultAt = System.nanoTime();
            trace("fault " + (partition ? "blackhole" : "server-side close") + " " + (factory == OURS ? "ours" : "latch"));
            if (partition) {
                proxy.blackhole();
            } else {
                SessionKiller.expire(aCurator, server.getConnectString());
            }
            if (!partition) {
                trace("killer returned");
            }
            awaitTrue(() -> bElected.get() != 0, Duration.ofSeconds(20));
            trace("main sees b elected; old term " + (factory == OURS ? oldTerm : "-"));
            staleWriter.join(TimeUnit.SECONDS.toMillis(20));
            boolean staleBelievedValid = staleValid.get();
            boolean refusedAtElection = factory != OURS || staleRefused.get();
            trace("stale writer: believed valid " + staleBelievedValid + ", refused " + refusedAtElection);
            // keep sampling: the old leader may only learn of it later
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(partition ? 1500 : 500);
            awaitTrue(() -> System.nanoTime() > until, Duration.ofSeconds(5));
            sampler.interrupt();
            sampler.join();
            long window = Math.max(0, (lastTrue.get() - bElected.get()) / 1000);
            if (TRACE) {
                System.out.println("-- trace, bElected at " + (bElected.get() - t0) / 1e6 + " ms, window " + window / 1e3 + " ms");
                EVENTS.forEach(System.out::println);
            }
            long failover = (bElected.get() - faultAt) / 1000 - PARTITION_SESSION.toMillis() * 1000;
            boolean refused = factory == OURS && refusedAtElection && staleCommitRefused(oldTerm);
            return new Outcome(window, failover, refused, staleBelievedValid && refusedAtElection);
        } finally {
            proxy.heal();
            if (successor != null) {
                successor.close();
            }
            if (oldLeader != null) {
                oldLeader.close();
            }
            b.close();
            aCurator.close();
            proxy.close();
        }
    }

    private static boolean staleCommitRefused(Leadership oldTerm) {
        try {
            oldTerm.commit();
            return false;
        } catch (LeadershipLostException refused) {
            trace("stale commit refused: " + refused.getMessage());
            return true;
        } catch (RuntimeException other) {
            trace("stale commit failed otherwise: " + other);
            return false;
        }
    }

    private static void windowRow(String label, long[] micros) {
        long max = Arrays.stream(micros).max().orElse(0);
        long overlapping = Arrays.stream(micros).filter(m -> m > 0).count();
        StringBuilder each = new StringBuilder();
        for (long m : micros) {
            each.append(each.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.1f", m / 1000.0));
        }
        Report.note(String.format(Locale.ROOT, "%-48s max %8.1f ms, %d of %d runs overlapping  [%s]", label,
                max / 1000.0, overlapping, micros.length, each));
    }

    private static void failoverRow(String label, long[] micros) {
        long[] sorted = micros.clone();
        Arrays.sort(sorted);
        Report.note(String.format(Locale.ROOT, "%-48s p50 %8.1f ms, max %8.1f ms", label,
                sorted[sorted.length / 2] / 1000.0, sorted[sorted.length - 1] / 1000.0));
    }

    // ---- waiting without sleeping in loops of our own ----

    private static void awaitTrue(BooleanSupplier condition, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out after " + timeout);
            }
            Thread.onSpinWait();
            TimeUnit.MICROSECONDS.sleep(50);
        }
    }

    /** Lets a just-started candidate's create reach the server before the next one is started. */
    private static void awaitQuiet() throws InterruptedException {
        TimeUnit.MILLISECONDS.sleep(20);
    }
}
