package dev.zkrecipes.bench;

import dev.zkrecipes.config.ConfigStore;
import dev.zkrecipes.core.TlsConfig;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.lock.DistributedLock;
import dev.zkrecipes.testing.TlsZkServer;
import dev.zkrecipes.testing.ZkServers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;

/**
 * The price of TLS, on one embedded server that speaks TLS on one port and plaintext on another:
 * connect time (plaintext, TLS, mutual TLS), uncontended lock cycles and config propagation to 5
 * readers, each over TLS next to plaintext in the same run, interleaved in rounds so that drift on
 * the machine hits both alike. Clients are built as users build them: a TLS client uses ZooKeeper's
 * Netty socket, a plaintext one the default NIO socket.
 */
public final class TlsScenario implements Scenario {

    private static final int READERS = 5;
    private static final Duration CONNECT_WAIT = Duration.ofSeconds(10);

    @Override
    public void run(String[] args) throws Exception {
        if (Ensemble.external(args).isPresent()) {
            Report.note("tls: skipped on an external ensemble (it compares TLS and plaintext ports of servers it starts itself)");
            return;
        }
        boolean quick = Arrays.asList(args).contains("--quick");
        int connects = quick ? 5 : 10;
        int cycles = quick ? 200 : 2000;
        int puts = quick ? 50 : 200;
        Path dir = Files.createTempDirectory("zkr-bench-tls");
        try {
            TlsZkServer.Certificates certs = TlsZkServer.generateCertificates(dir.resolve("certs"));
            TlsConfig tls = TlsConfig.builder().trustStore(certs.trustStore(), TlsZkServer.PASSWORD).build();
            TlsConfig mutual = TlsConfig.builder().trustStore(certs.trustStore(), TlsZkServer.PASSWORD)
                    .keyStore(certs.clientKeyStore(), TlsZkServer.PASSWORD).build();
            try (TlsZkServer server = TlsZkServer.start(certs, dir.resolve("zk"))) {
                Transport plain = new Transport("plaintext", server.plainConnectString(), null);
                Transport secure = new Transport("TLS", server.secureConnectString(), tls);
                Transport mutualTls = new Transport("mutual TLS", server.secureConnectString(), mutual);
                connect(plain, secure, mutualTls, connects);
                locks(plain, secure, cycles);
                config(plain, secure, puts);
            }
        } finally {
            deleteRecursively(dir);
        }
    }

    /** How a client reaches the server: a connect string and, for TLS, the client's settings. */
    private record Transport(String name, String connectString, TlsConfig tls) {

        /** Builds, starts and waits for a connected client; closes it if that fails. */
        ZkRecipes connect() throws InterruptedException {
            ZkRecipes.Builder b = ZkRecipes.builder()
                    .connectString(connectString)
                    .sessionTimeout(Duration.ofSeconds(15))
                    .connectionTimeout(Duration.ofSeconds(5));
            if (tls != null) {
                b.tls(tls);
            }
            ZkRecipes zk = b.build();
            try {
                zk.start();
                if (!zk.awaitConnected(CONNECT_WAIT)) {
                    throw new IllegalStateException(name + " client did not connect to " + connectString + " within " + CONNECT_WAIT);
                }
                return zk;
            } catch (RuntimeException | InterruptedException e) {
                zk.close();
                throw e;
            }
        }
    }

    // ---- 1. connect time ----

    private static void connect(Transport plain, Transport tls, Transport mutual, int n) throws Exception {
        Transport[] transports = {plain, tls, mutual};
        Histogram[] measured = {Report.latencies(), Report.latencies(), Report.latencies()};
        long[] coldMicros = new long[3];
        // round 0 is the cold start (class loading, the first SSLContext): noted, not counted
        for (int round = 0; round <= n; round++) {
            for (int t = 0; t < transports.length; t++) {
                long t0 = System.nanoTime();
                ZkRecipes zk = transports[t].connect();
                long micros = Math.max(1, (System.nanoTime() - t0) / 1000);
                zk.close();
                if (round == 0) {
                    coldMicros[t] = micros;
                } else {
                    measured[t].recordValue(micros);
                }
            }
        }
        Report.title("TLS, connect: build + start + awaitConnected of a new client (" + n + " each, interleaved)");
        Report.latencyRow("plaintext connect", measured[0], null, null);
        Report.latencyRow("TLS connect (server authentication)", measured[1], measured[0], "plaintext");
        Report.latencyRow("mutual TLS connect (client certificate)", measured[2], measured[0], "plaintext");
        Report.note(String.format(Locale.ROOT, "first (cold) connect, not counted: plaintext %.1f ms, TLS %.1f ms, mutual TLS %.1f ms",
                coldMicros[0] / 1000.0, coldMicros[1] / 1000.0, coldMicros[2] / 1000.0));
    }

    // ---- 2. uncontended lock cycles ----

    private static void locks(Transport plain, Transport tls, int cycles) throws Exception {
        ZkRecipes plainClient = plain.connect();
        ZkRecipes tlsClient = null;
        try {
            tlsClient = tls.connect();
            DistributedLock plainLock = DistributedLock.of(plainClient, "bench/tls-scenario-plain");
            DistributedLock tlsLock = DistributedLock.of(tlsClient, "bench/tls-scenario-tls");
            Histogram plainCycle = Report.latencies();
            Histogram plainAcquire = Report.latencies();
            Histogram tlsCycle = Report.latencies();
            Histogram tlsAcquire = Report.latencies();
            double plainPerSecond = 0;
            double tlsPerSecond = 0;
            // warm up, then interleave the two in rounds so that drift on the machine hits both alike
            for (int pass = 0; pass < 2; pass++) {
                boolean measure = pass == 1;
                int perRound = (measure ? cycles : cycles / 4) / 10;
                long plainSpent = 0;
                long tlsSpent = 0;
                for (int round = 0; round < 10; round++) {
                    // alternate which goes first, so neither always follows the other's garbage
                    if (round % 2 == 0) {
                        plainSpent += cycle(plainLock, perRound, measure ? plainCycle : null, measure ? plainAcquire : null);
                        tlsSpent += cycle(tlsLock, perRound, measure ? tlsCycle : null, measure ? tlsAcquire : null);
                    } else {
                        tlsSpent += cycle(tlsLock, perRound, measure ? tlsCycle : null, measure ? tlsAcquire : null);
                        plainSpent += cycle(plainLock, perRound, measure ? plainCycle : null, measure ? plainAcquire : null);
                    }
                }
                plainPerSecond = perRound * 10 / (plainSpent / 1e9);
                tlsPerSecond = perRound * 10 / (tlsSpent / 1e9);
            }
            Report.title("TLS, lock uncontended acquire+release, one client per transport (" + cycles + " cycles each, interleaved)");
            Report.throughputRow("DistributedLock cycles over plaintext", plainPerSecond, 0, "");
            Report.throughputRow("DistributedLock cycles over TLS", tlsPerSecond, plainPerSecond, "plaintext");
            Report.latencyRow("cycle over plaintext", plainCycle, null, null);
            Report.latencyRow("cycle over TLS", tlsCycle, plainCycle, "plaintext");
            Report.latencyRow("acquire() over plaintext", plainAcquire, null, null);
            Report.latencyRow("acquire() over TLS", tlsAcquire, plainAcquire, "plaintext");
        } finally {
            if (tlsClient != null) {
                tlsClient.close();
            }
            plainClient.close();
        }
    }

    /** {@code n} acquire+release cycles; returns the nanoseconds they took. */
    private static long cycle(DistributedLock lock, int n, Histogram cycle, Histogram acquire) throws Exception {
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            AutoCloseable held = lock.acquire();
            if (acquire != null) {
                Report.recordSince(acquire, t0);
            }
            held.close();
            if (cycle != null) {
                Report.recordSince(cycle, t0);
            }
        }
        return System.nanoTime() - start;
    }

    // ---- 3. config propagation ----

    /** One writer and {@link #READERS} readers over one transport, each with its own ConfigStore. */
    private static final class Propagation implements AutoCloseable {
        private final List<ZkRecipes> clients = new ArrayList<>();
        private final List<ConfigStore> stores = new ArrayList<>();
        private final String run = Long.toString(System.nanoTime());
        private ConfigStore writer;
        private volatile int expected;
        private volatile long[] arrivedAt;
        private volatile CountDownLatch arrived;

        Propagation(Transport transport, String storeName) throws Exception {
            try {
                ZkRecipes w = transport.connect();
                clients.add(w);
                writer = ConfigStore.open(w, storeName);
                stores.add(writer);
                for (int r = 0; r < READERS; r++) {
                    ZkRecipes zk = transport.connect();
                    clients.add(zk);
                    ConfigStore store = ConfigStore.open(zk, storeName);
                    stores.add(store);
                    int reader = r;
                    store.addListener(change -> change.newValue().ifPresent(v -> {
                        long now = System.nanoTime();
                        if (!v.startsWith(run + ":")) {
                            return;
                        }
                        int i = Integer.parseInt(v.substring(v.indexOf(':') + 1));
                        long[] at = arrivedAt;
                        CountDownLatch latch = arrived;
                        if (i == expected && at != null && at[reader] == 0) {
                            at[reader] = now;
                            latch.countDown();
                        }
                    }));
                }
            } catch (Exception | Error e) {
                close();
                throw e;
            }
        }

        /** Puts value {@code i} and returns the nanoseconds until every reader's listener had it. */
        long put(int i) throws InterruptedException {
            long[] at = new long[READERS];
            CountDownLatch latch = new CountDownLatch(READERS);
            arrivedAt = at;
            arrived = latch;
            expected = i;
            long sentAt = System.nanoTime();
            writer.put("key", run + ":" + i);
            if (!latch.await(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("put " + i + " did not reach every reader within 10 s");
            }
            return Arrays.stream(at).max().orElseThrow() - sentAt;
        }

        @Override
        public void close() {
            stores.forEach(ZkServers::closeQuietly);
            clients.forEach(ZkServers::closeQuietly);
        }
    }

    private static void config(Transport plain, Transport tls, int puts) throws Exception {
        Histogram plainH = Report.latencies();
        Histogram tlsH = Report.latencies();
        try (Propagation overPlain = new Propagation(plain, "bench-tls-scenario-plain");
             Propagation overTls = new Propagation(tls, "bench-tls-scenario-tls")) {
            int warmUp = Math.max(10, puts / 10);
            for (int i = 1; i <= warmUp + puts; i++) {
                // one put on each transport per round, alternating which goes first
                boolean measure = i > warmUp;
                long p;
                long t;
                if (i % 2 == 0) {
                    p = overPlain.put(i);
                    t = overTls.put(i);
                } else {
                    t = overTls.put(i);
                    p = overPlain.put(i);
                }
                if (measure) {
                    plainH.recordValue(Math.max(1, p / 1000));
                    tlsH.recordValue(Math.max(1, t / 1000));
                }
            }
        }
        Report.title("TLS, config propagation: put on one client → listener on every one of " + READERS + " readers ("
                + puts + " rounds, interleaved)");
        Report.latencyRow("ConfigStore to " + READERS + " readers over plaintext", plainH, null, null);
        Report.latencyRow("ConfigStore to " + READERS + " readers over TLS", tlsH, plainH, "plaintext");
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
