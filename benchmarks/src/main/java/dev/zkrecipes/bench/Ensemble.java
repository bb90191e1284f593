package dev.zkrecipes.bench;

import dev.zkrecipes.testing.ZkServers;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.KeeperException;

/**
 * Where a scenario runs: an embedded server (the default), or the user's own ensemble given as
 * {@code --connect=host:port,...} among the scenario's arguments. On an external ensemble every
 * client of the run works under a namespace made for it ({@code /zkr-bench-<time>}, a chroot in the
 * connect string), removed with everything in it when the scenario ends, so a run leaves nothing
 * behind and never touches the ensemble's other data.
 */
final class Ensemble implements AutoCloseable {

    private static final String CONNECT = "--connect=";

    private final TestingServer embedded;
    private final String hosts;
    private final String chroot;

    private Ensemble(TestingServer embedded, String hosts, String chroot) {
        this.embedded = embedded;
        this.hosts = hosts;
        this.chroot = chroot;
    }

    /** The external ensemble named in {@code args}, if any. */
    static Optional<String> external(String[] args) {
        return Arrays.stream(args).filter(a -> a.startsWith(CONNECT)).map(a -> a.substring(CONNECT.length())).findFirst();
    }

    /** An embedded server, or a fresh namespace on the external ensemble named in {@code args}. */
    static Ensemble open(String[] args) throws Exception {
        Optional<String> hosts = external(args);
        if (hosts.isEmpty()) {
            // the server's own counts (mntr) for the scale figures; read once, when the first server starts
            System.setProperty("zookeeper.4lw.commands.whitelist", "srvr,mntr,wchs,ruok");
            return new Ensemble(ZkServers.startServer(), null, null);
        }
        if (hosts.get().contains("/")) {
            throw new IllegalArgumentException("--connect " + hosts.get() + ": give host:port,... without a chroot; the run"
                    + " makes its own namespace");
        }
        String chroot = "/zkr-bench-" + Instant.now().toString().replaceAll("[^0-9TZ]", "").toLowerCase(Locale.ROOT)
                + "-" + ProcessHandle.current().pid();
        try (CuratorFramework admin = admin(hosts.get())) {
            admin.create().forPath(chroot);
        }
        Report.note("measured on the external ensemble " + hosts.get() + ", under " + chroot + " (removed afterwards);"
                + " 'server' in the titles below means that ensemble");
        return new Ensemble(null, hosts.get(), chroot);
    }

    /** What every client of the scenario connects to. */
    String getConnectString() {
        return embedded != null ? embedded.getConnectString() : hosts + chroot;
    }

    /** For titles: where the figures were measured. */
    String describe() {
        return embedded != null ? "one embedded server" : "external ensemble " + hosts;
    }

    /**
     * The server's own counts from {@code mntr} (the first server of an external ensemble, which needs
     * the four-letter word enabled): znodes, watches, ephemerals; empty if it does not answer.
     */
    String serverCounts() {
        String first = (embedded != null ? embedded.getConnectString() : hosts).split(",")[0];
        int colon = first.lastIndexOf(':');
        try (java.net.Socket s = new java.net.Socket(first.substring(0, colon), Integer.parseInt(first.substring(colon + 1)))) {
            s.setSoTimeout(5000);
            s.getOutputStream().write("mntr".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            String reply = new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
            java.util.Map<String, String> values = new java.util.HashMap<>();
            for (String line : reply.split("\n")) {
                String[] kv = line.split("\t");
                if (kv.length == 2) {
                    values.put(kv[0], kv[1].trim());
                }
            }
            if (!values.containsKey("zk_znode_count")) {
                return "server counts unavailable (enable the mntr four-letter word)";
            }
            return "server: " + values.get("zk_znode_count") + " znodes, " + values.get("zk_watch_count") + " watches, "
                    + values.getOrDefault("zk_ephemerals_count", "?") + " ephemerals";
        } catch (java.io.IOException | RuntimeException e) {
            return "server counts unavailable (" + e.getMessage() + ")";
        }
    }

    boolean isExternal() {
        return embedded == null;
    }

    /** Stops the embedded server, or removes the run's namespace (the clients of the run closed first). */
    @Override
    public void close() throws Exception {
        if (embedded != null) {
            embedded.close();
            return;
        }
        try (CuratorFramework admin = admin(hosts)) {
            // ephemeral nodes of clients just closed may still be going with their sessions: try a few times
            for (int attempt = 0; ; attempt++) {
                try {
                    admin.delete().deletingChildrenIfNeeded().forPath(chroot);
                    return;
                } catch (KeeperException.NoNodeException gone) {
                    return;
                } catch (KeeperException.NotEmptyException racing) {
                    if (attempt == 5) {
                        System.err.println("could not remove " + chroot + " from " + hosts + ": remove it by hand");
                        return;
                    }
                    TimeUnit.MILLISECONDS.sleep(200);
                }
            }
        }
    }

    private static CuratorFramework admin(String hosts) throws InterruptedException {
        CuratorFramework admin = CuratorFrameworkFactory.newClient(hosts, new ExponentialBackoffRetry(100, 3));
        admin.start();
        if (!admin.blockUntilConnected((int) Duration.ofSeconds(10).toMillis(), TimeUnit.MILLISECONDS)) {
            admin.close();
            throw new IllegalStateException("no ZooKeeper server reachable at " + hosts + " within 10 s");
        }
        return admin;
    }
}
