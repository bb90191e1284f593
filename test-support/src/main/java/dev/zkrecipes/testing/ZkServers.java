package dev.zkrecipes.testing;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
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
            return new TestingServer(spec(-1), true);
        } catch (Exception e) {
            throw new IllegalStateException("could not start an embedded ZooKeeper server", e);
        }
    }

    /** Starts an ensemble of {@code size} servers. */
    public static TestingCluster startCluster(int size) {
        List<InstanceSpec> specs = new ArrayList<>();
        for (int i = 1; i <= size; i++) {
            specs.add(spec(i));
        }
        TestingCluster cluster = new TestingCluster(specs);
        try {
            cluster.start();
        } catch (Exception e) {
            throw new IllegalStateException("could not start an embedded ZooKeeper ensemble of " + size, e);
        }
        return cluster;
    }

    private static InstanceSpec spec(int serverId) {
        Map<String, Object> props = Map.of(
                "maxSessionTimeout", "60000",
                // every server reachable and answering on loopback only
                "clientPortAddress", "127.0.0.1");
        return new InstanceSpec(null, -1, -1, -1, true, serverId, TICK_MILLIS, -1, props, "127.0.0.1");
    }

    /**
     * The member of {@code cluster} that currently leads the ensemble (ZooKeeper's own quorum leader,
     * not a recipe's), found with the {@code srvr} command on each member's client port.
     */
    public static InstanceSpec ensembleLeader(TestingCluster cluster) {
        for (InstanceSpec spec : cluster.getInstances()) {
            if (mode(spec.getPort()).contains("leader")) {
                return spec;
            }
        }
        throw new IllegalStateException("no member of the ensemble reports Mode: leader");
    }

    /** The {@code Mode:} line a server reports (leader, follower, standalone), or "" if it does not answer. */
    public static String mode(int clientPort) {
        try (Socket s = new Socket("127.0.0.1", clientPort)) {
            s.setSoTimeout(2000);
            s.getOutputStream().write("srvr".getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            String reply = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            for (String line : reply.split("\n")) {
                if (line.startsWith("Mode:")) {
                    return line.substring(5).trim();
                }
            }
            return "";
        } catch (IOException e) {
            return "";
        }
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
