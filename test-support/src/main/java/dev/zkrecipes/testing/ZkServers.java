package dev.zkrecipes.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.apache.curator.test.TestingServer;

/**
 * Embedded ZooKeeper servers for tests and the demo: a single {@link TestingServer} or a real
 * 3-node {@link TestingCluster}, with a short tick so that fault tests can use sessions of a few
 * seconds, and a session ceiling high enough for the library's 15 s default.
 */
public final class ZkServers {

    /** Server tick: sessions may be as short as two ticks. */
    public static final int TICK_MILLIS = 200;

    private ZkServers() {
    }

    /** Starts a single server on a free loopback port. */
    public static TestingServer startServer() {
        try {
            return new TestingServer(spec(-1, -1), true);
        } catch (Exception e) {
            throw new IllegalStateException("could not start an embedded ZooKeeper server", e);
        }
    }

    /** Starts an ensemble of {@code size} servers. */
    public static TestingCluster startCluster(int size) {
        List<InstanceSpec> specs = new ArrayList<>();
        for (int i = 1; i <= size; i++) {
            specs.add(spec(i, 0));
        }
        TestingCluster cluster = new TestingCluster(specs);
        try {
            cluster.start();
        } catch (Exception e) {
            throw new IllegalStateException("could not start an embedded ZooKeeper ensemble of " + size, e);
        }
        return cluster;
    }

    private static InstanceSpec spec(int serverId, int quorumPorts) {
        Map<String, Object> props = Map.of(
                "maxSessionTimeout", "60000",
                // every server reachable and answering on loopback only
                "clientPortAddress", "127.0.0.1");
        return new InstanceSpec(null, -1, quorumPorts, quorumPorts, true, serverId, TICK_MILLIS, -1, props, "127.0.0.1");
    }

    /** Closes quietly, for {@code @AfterAll}. */
    public static void closeQuietly(AutoCloseable closeable) {
        if (closeable == null) {
            return;
        }
        try {
            closeable.close();
        } catch (Exception ignored) {
            // a test's teardown must not hide the test's own failure
        }
    }
}
