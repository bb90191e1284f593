package dev.zkrecipes.bench;

import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.lock.DistributedLock;
import dev.zkrecipes.lock.LockHandle;
import dev.zkrecipes.testing.Clients;
import dev.zkrecipes.testing.ZkServers;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

/**
 * Lock figures on one embedded server: uncontended acquire+release cycles and acquire latency,
 * contended hand-off among 4 clients; each next to Curator's {@code InterProcessMutex} and the raw
 * ZooKeeper client floor measured in the same run.
 */
public final class LockScenario implements Scenario {

    private interface Lock {
        AutoCloseable acquire() throws Exception;
    }

    @Override
    public void run(String[] args) throws Exception {
        boolean quick = Arrays.asList(args).contains("--quick");
        int cycles = quick ? 200 : 2000;
        int handOffs = quick ? 200 : 1000;
        try (Ensemble server = Ensemble.open(args)) {
            List<ZkRecipes> clients = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                clients.add(Clients.connect(server.getConnectString()));
            }
            ZooKeeper raw = RawZk.connect(server.getConnectString());
            ZkRecipes metered = Metered.connect(server.getConnectString());
            try {
                uncontended(clients.get(0), raw, cycles, metered);
                contended(clients, handOffs);
            } finally {
                raw.close();
                metered.close();
                clients.forEach(ZkRecipes::close);
            }
        }
    }

    private static void uncontended(ZkRecipes zk, ZooKeeper raw, int cycles, ZkRecipes metered) throws Exception {
        CuratorFramework curator = zk.curator();
        curator.create().creatingParentsIfNeeded().forPath("/bench/raw-lock");
        DistributedLock ours = DistributedLock.of(zk, "bench/uncontended");
        DistributedLock oursMetered = DistributedLock.of(metered, "bench/uncontended-metered");
        InterProcessMutex mutex = new InterProcessMutex(curator, "/bench/curator-uncontended");

        Histogram oursCycle = Report.latencies();
        Histogram oursAcquire = Report.latencies();
        Histogram curatorCycle = Report.latencies();
        Histogram curatorAcquire = Report.latencies();
        Histogram oursRelease = Report.latencies();
        Histogram curatorRelease = Report.latencies();
        Histogram rawCycle = Report.latencies();
        Histogram rawCreate = Report.latencies();
        Histogram rawPipelined = Report.latencies();
        double[] perSecond = new double[4];
        // warm up, then interleave the three in rounds so that drift on the machine hits all alike
        for (int pass = 0; pass < 2; pass++) {
            boolean measure = pass == 1;
            int n = measure ? cycles : cycles / 4;
            long[] spent = new long[4];
            for (int round = 0; round < 10; round++) {
                // with and without a registry take turns going first: what runs right before moves the figures
                if (round % 2 == 1) {
                    spent[3] += cycle(n / 10, null, null, null, () -> oursMetered.acquire());
                }
                spent[0] += cycle(n / 10, measure ? oursCycle : null, measure ? oursAcquire : null, oursRelease,
                        () -> ours.acquire());
                if (round % 2 == 0) {
                    spent[3] += cycle(n / 10, null, null, null, () -> oursMetered.acquire());
                }
                spent[1] += cycle(n / 10, measure ? curatorCycle : null, measure ? curatorAcquire : null, curatorRelease, () -> {
                    mutex.acquire();
                    return mutex::release;
                });
                spent[2] += rawCycles(raw, n / 10, measure ? rawCycle : null, measure ? rawCreate : null);
                rawPipelinedCycles(raw, n / 10, measure ? rawPipelined : null);
            }
            for (int i = 0; i < 4; i++) {
                perSecond[i] = (n / 10 * 10) / (spent[i] / 1e9);
            }
        }
        Report.title("lock, uncontended acquire+release on one server (" + cycles + " cycles each)");
        Report.throughputRow("zk-recipes DistributedLock cycles", perSecond[0], perSecond[1], "Curator");
        Report.throughputRow("", perSecond[0], perSecond[2], "raw floor");
        Report.throughputRow("Curator InterProcessMutex cycles", perSecond[1], perSecond[2], "raw floor");
        Report.throughputRow("raw floor (create seq + getChildren + delete)", perSecond[2], 0, "");
        Report.throughputRow("zk-recipes cycles with a MeterRegistry", perSecond[3], perSecond[0], "without");
        Report.latencyRow("zk-recipes cycle", oursCycle, curatorCycle, "Curator");
        Report.latencyRow("Curator InterProcessMutex cycle", curatorCycle, rawCycle, "raw floor");
        Report.latencyRow("raw floor cycle", rawCycle, null, null);
        Report.latencyRow("zk-recipes release (close)", oursRelease, curatorRelease, "Curator");
        Report.latencyRow("Curator release", curatorRelease, null, null);
        Report.latencyRow("zk-recipes acquire()", oursAcquire, rawCreate, "one ephemeral create");
        Report.latencyRow("Curator acquire()", curatorAcquire, rawCreate, "one ephemeral create");
        Report.latencyRow("one ephemeral-sequential create (raw)", rawCreate, null, null);
        Report.latencyRow("raw pipelined create + getChildren, async", rawPipelined, rawCreate, "one ephemeral create");
    }

    /** {@code n} acquire+release cycles; returns the nanoseconds they took. */
    private static long cycle(int n, Histogram cycle, Histogram acquire, Histogram release, Lock lock) throws Exception {
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            AutoCloseable h = lock.acquire();
            if (acquire != null) {
                Report.recordSince(acquire, t0);
            }
            long released = System.nanoTime();
            h.close();
            if (cycle != null) {
                Report.recordSince(cycle, t0);
                Report.recordSince(release, released);
            }
        }
        return System.nanoTime() - start;
    }

    /**
     * The floor of an acquire that keeps its caller's bound: the create and the read of the line
     * sent back to back and awaited as futures (ZooKeeper's answers then reach the caller through
     * its event thread), a protected name and a payload like a lock node's, the node watched, and
     * the release awaited the same way. Only the part up to both answers is recorded.
     */
    private static void rawPipelinedCycles(ZooKeeper zk, int n, Histogram acquire) throws Exception {
        byte[] payload = new byte[60];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            CompletableFuture<String> created = new CompletableFuture<>();
            CompletableFuture<List<String>> listed = new CompletableFuture<>();
            zk.create("/bench/raw-lock/_c_" + UUID.randomUUID() + "-lock-", payload, ZooDefs.Ids.OPEN_ACL_UNSAFE,
                    CreateMode.EPHEMERAL_SEQUENTIAL, (rc, path, ctx, name, stat) -> created.complete(name), null);
            zk.getChildren("/bench/raw-lock", false, (rc, path, ctx, children, stat) -> listed.complete(children), null);
            String path = created.get();
            listed.get();
            if (acquire != null) {
                Report.recordSince(acquire, t0);
            }
            zk.getData(path, event -> { }, (rc, p, ctx, data, stat) -> { }, null);
            CompletableFuture<Integer> deleted = new CompletableFuture<>();
            zk.delete(path, -1, (rc, p, ctx) -> deleted.complete(rc), null);
            deleted.get();
        }
    }

    private static long rawCycles(ZooKeeper zk, int n, Histogram cycle, Histogram create) throws Exception {
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            String path = zk.create("/bench/raw-lock/lock-", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL_SEQUENTIAL);
            if (create != null) {
                Report.recordSince(create, t0);
            }
            zk.getChildren("/bench/raw-lock", false);
            zk.delete(path, -1);
            if (cycle != null) {
                Report.recordSince(cycle, t0);
            }
        }
        return System.nanoTime() - start;
    }

    private static void contended(List<ZkRecipes> clients, int handOffs) throws Exception {
        Histogram ours = Report.latencies();
        Histogram curator = Report.latencies();
        LockFactory oursFactory = zk -> {
            DistributedLock lock = DistributedLock.of(zk, "bench/contended");
            return () -> lock.acquire();
        };
        LockFactory curatorFactory = zk -> {
            InterProcessMutex mutex = new InterProcessMutex(zk.curator(), "/bench/curator-contended");
            return () -> {
                mutex.acquire();
                return mutex::release;
            };
        };
        // alternate rounds, so that neither gets the warmer JIT or the quieter machine
        double oursSeconds = 0;
        double curatorSeconds = 0;
        int rounds = 4;
        for (int round = 0; round < rounds; round++) {
            oursSeconds += contend(clients, handOffs / rounds, round == 0 ? null : ours, oursFactory);
            curatorSeconds += contend(clients, handOffs / rounds, round == 0 ? null : curator, curatorFactory);
        }
        double measured = (double) handOffs / rounds * (rounds - 1);
        Report.title("lock, contended hand-off among 4 clients (holder's release → next holder's acquire returns)");
        Report.latencyRow("zk-recipes DistributedLock hand-off", ours, curator, "Curator");
        Report.latencyRow("Curator InterProcessMutex hand-off", curator, null, null);
        Report.throughputRow("zk-recipes contended cycles", measured / oursSeconds, measured / curatorSeconds, "Curator");
        Report.throughputRow("Curator contended cycles", measured / curatorSeconds, 0, "");
    }

    private interface LockFactory {
        Lock create(ZkRecipes zk);
    }

    /**
     * Four clients loop acquire → release until {@code handOffs} acquisitions; records release-start →
     * next acquire-return into {@code h} (null: warm-up). Returns the seconds it took.
     */
    private static double contend(List<ZkRecipes> clients, int handOffs, Histogram h, LockFactory factory) throws Exception {
        AtomicLong releasedAt = new AtomicLong();
        AtomicLong done = new AtomicLong();
        CountDownLatch finished = new CountDownLatch(clients.size());
        List<Thread> threads = new ArrayList<>();
        for (ZkRecipes zk : clients) {
            Lock lock = factory.create(zk);
            threads.add(new Thread(() -> {
                try {
                    while (done.get() < handOffs) {
                        AutoCloseable held = lock.acquire();
                        long released = releasedAt.get();
                        done.incrementAndGet();
                        if (h != null && released != 0) {
                            synchronized (h) {
                                Report.recordSince(h, released);
                            }
                        }
                        releasedAt.set(System.nanoTime());
                        held.close();
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                } finally {
                    finished.countDown();
                }
            }));
        }
        long start = System.nanoTime();
        threads.forEach(Thread::start);
        finished.await(5, TimeUnit.MINUTES);
        return (System.nanoTime() - start) / 1e9;
    }
}
