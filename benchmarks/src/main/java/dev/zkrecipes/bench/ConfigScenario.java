package dev.zkrecipes.bench;

import dev.zkrecipes.config.ConfigStore;
import dev.zkrecipes.config.FileMetadata;
import dev.zkrecipes.config.FileMetadataStore;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.testing.Clients;
import dev.zkrecipes.testing.ZkServers;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.test.TestingServer;

/**
 * Config figures on one embedded server: propagation from a put on one client to the listener on
 * 20 others (next to a plain Curator {@code CuratorCache} listener, same run), {@code stat} from the
 * local copy vs a direct {@code getData}, and the rename of a directory with 100 entries.
 */
public final class ConfigScenario implements Scenario {

    private static final int READERS = 20;

    @Override
    public void run(String[] args) throws Exception {
        boolean quick = Arrays.asList(args).contains("--quick");
        int puts = quick ? 20 : 100;
        try (Ensemble server = Ensemble.open(args)) {
            ZkRecipes writer = Clients.connect(server.getConnectString());
            List<ZkRecipes> readers = new ArrayList<>();
            for (int i = 0; i < READERS; i++) {
                readers.add(Clients.connect(server.getConnectString()));
            }
            try {
                Histogram ours = Report.latencies();
                Histogram plain = Report.latencies();
                for (int round = 0; round < 3; round++) {
                    propagation(writer, readers, puts / 2, round == 0 ? null : ours);
                    plainCache(writer, readers, puts / 2, round == 0 ? null : plain);
                }
                Report.title("config, propagation: put on one client → listener on each of " + READERS + " other clients");
                Report.latencyRow("zk-recipes ConfigStore", ours, plain, "CuratorCache");
                Report.latencyRow("plain Curator CuratorCache listener", plain, null, null);
                files(writer, quick);
            } finally {
                readers.forEach(ZkRecipes::close);
                writer.close();
            }
        }
    }

    private static void propagation(ZkRecipes writer, List<ZkRecipes> readers, int puts, Histogram h) throws Exception {
        long[] sentAt = new long[puts + 1];
        CountDownLatch[] arrived = new CountDownLatch[puts + 1];
        for (int i = 0; i <= puts; i++) {
            arrived[i] = new CountDownLatch(readers.size());
        }
        List<ConfigStore> stores = new ArrayList<>();
        try (ConfigStore source = ConfigStore.open(writer, "bench")) {
            for (ZkRecipes r : readers) {
                ConfigStore s = ConfigStore.open(r, "bench");
                stores.add(s);
                s.addListener(change -> change.newValue().ifPresent(v -> {
                    int i = Integer.parseInt(v.substring(v.indexOf(':') + 1));
                    if (i >= 0 && i <= puts && i > 0) {
                        if (h != null) {
                            synchronized (h) {
                                Report.recordSince(h, sentAt[i]);
                            }
                        }
                        arrived[i].countDown();
                    }
                }));
            }
            String run = Long.toString(System.nanoTime());
            for (int i = 1; i <= puts; i++) {
                sentAt[i] = System.nanoTime();
                source.put("key", run + ":" + i);
                if (!arrived[i].await(10, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("a put did not reach every reader");
                }
            }
        } finally {
            stores.forEach(ConfigStore::close);
        }
    }

    private static void plainCache(ZkRecipes writer, List<ZkRecipes> readers, int puts, Histogram h) throws Exception {
        String path = "/bench/plain-config";
        if (writer.curator().checkExists().forPath(path) == null) {
            writer.curator().create().creatingParentsIfNeeded().forPath(path, new byte[0]);
        }
        long[] sentAt = new long[puts + 1];
        CountDownLatch[] arrived = new CountDownLatch[puts + 1];
        for (int i = 0; i <= puts; i++) {
            arrived[i] = new CountDownLatch(readers.size());
        }
        String run = Long.toString(System.nanoTime());
        List<CuratorCache> caches = new ArrayList<>();
        try {
            for (ZkRecipes r : readers) {
                CuratorCache cache = CuratorCache.build(r.curator(), path, CuratorCache.Options.SINGLE_NODE_CACHE);
                CountDownLatch ready = new CountDownLatch(1);
                cache.listenable().addListener(CuratorCacheListener.builder().forChanges((old, now) -> {
                    String v = new String(now.getData());
                    if (v.startsWith(run + ":")) {
                        int i = Integer.parseInt(v.substring(v.indexOf(':') + 1));
                        if (h != null) {
                            synchronized (h) {
                                Report.recordSince(h, sentAt[i]);
                            }
                        }
                        arrived[i].countDown();
                    }
                }).forInitialized(ready::countDown).build());
                cache.start();
                ready.await(10, TimeUnit.SECONDS);
                caches.add(cache);
            }
            for (int i = 1; i <= puts; i++) {
                sentAt[i] = System.nanoTime();
                writer.curator().setData().forPath(path, (run + ":" + i).getBytes());
                if (!arrived[i].await(10, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("a write did not reach every plain cache");
                }
            }
        } finally {
            caches.forEach(CuratorCache::close);
        }
    }

    private static void files(ZkRecipes zk, boolean quick) throws Exception {
        try (FileMetadataStore fs = FileMetadataStore.open(zk, "bench")) {
            FileMetadata meta = FileMetadata.builder().size(1024).checksum("sha256:00").owner("bench").build();
            if (fs.stat("/stat/one").isEmpty()) {
                fs.create("/stat/one", meta);
            }
            int n = quick ? 2_000 : 20_000;
            Histogram cached = Report.latencies();
            Histogram direct = Report.latencies();
            for (int round = 0; round < 2; round++) {
                for (int i = 0; i < n; i++) {
                    long t0 = System.nanoTime();
                    fs.stat("/stat/one");
                    if (round == 1) {
                        cached.recordValue(Math.max(1, (System.nanoTime() - t0) / 1000));
                    }
                }
                for (int i = 0; i < n / 10; i++) {
                    long t0 = System.nanoTime();
                    zk.curator().getData().forPath("/zkr/fs/bench/stat/one");
                    if (round == 1) {
                        direct.recordValue(Math.max(1, (System.nanoTime() - t0) / 1000));
                    }
                }
            }
            Report.title("file metadata, stat of one file");
            Report.latencyRow("zk-recipes FileMetadataStore.stat (local copy)", cached, direct, "getData");
            Report.latencyRow("direct getData (one round trip)", direct, null, null);

            for (int i = 0; i < 100; i++) {
                fs.create("/dir/f" + i, meta);
            }
            Histogram rename = Report.latencies();
            int renames = quick ? 6 : 20;
            for (int i = 0; i < renames; i++) {
                long t0 = System.nanoTime();
                fs.rename(i % 2 == 0 ? "/dir" : "/dir2", i % 2 == 0 ? "/dir2" : "/dir");
                if (i > 1) {
                    Report.recordSince(rename, t0);
                }
            }
            Report.title("file metadata, rename of a directory with 100 entries (one transaction, reads included)");
            Report.latencyRow("zk-recipes FileMetadataStore.rename", rename, null, null);
        }
    }
}
