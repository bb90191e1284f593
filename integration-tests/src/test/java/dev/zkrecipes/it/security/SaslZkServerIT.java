package dev.zkrecipes.it.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.zkrecipes.testing.SaslZkServer;
import dev.zkrecipes.testing.ZkServers;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SaslZkServer}: the child JVM serves, refuses a client that has not authenticated with SASL,
 * and is gone after {@code close()}. The test JVM installs no JAAS configuration.
 */
class SaslZkServerIT {

    private static final Duration WAIT = Duration.ofSeconds(15);

    @TempDir
    Path dir;

    @Test
    void refusesEveryRequestOfAClientWithoutSasl() throws Exception {
        long startedAt = System.nanoTime();
        try (SaslZkServer server = SaslZkServer.start(dir, Map.of("alice", "alice-pw"))) {
            System.out.printf("child JVM served after %d ms%n", Duration.ofNanos(System.nanoTime() - startedAt).toMillis());
            List<KeeperState> states = new CopyOnWriteArrayList<>();
            ZKClientConfig noSasl = new ZKClientConfig();
            // whatever JAAS configuration another test may have left in this JVM
            noSasl.setProperty(ZKClientConfig.ENABLE_CLIENT_SASL_KEY, "false");
            ZooKeeper zk = new ZooKeeper(server.connectString(), 15_000, e -> states.add(e.getState()), noSasl);
            try {
                // the handshake itself is not refused: the client gets a session
                await().atMost(WAIT).until(() -> states.contains(KeeperState.SyncConnected));

                Throwable refused = catchThrowable(
                        () -> zk.create("/x", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));

                assertThat(refused).isInstanceOf(KeeperException.SessionClosedRequireAuthException.class);
                assertThat(((KeeperException) refused).code()).isEqualTo(KeeperException.Code.SESSIONCLOSEDREQUIRESASLAUTH);
                // the server then drops the connection, but not the session: the client comes back to it ...
                await().atMost(WAIT).until(() -> states.equals(
                        List.of(KeeperState.SyncConnected, KeeperState.Disconnected, KeeperState.SyncConnected)));
                // ... and is refused again, reads included
                assertThat(catchThrowable(() -> zk.exists("/", false)))
                        .isInstanceOf(KeeperException.SessionClosedRequireAuthException.class);
                assertThat(states).doesNotContain(KeeperState.Expired, KeeperState.AuthFailed);
            } finally {
                zk.close();
            }
        }
    }

    @Test
    void closeEndsTheChildJvm() {
        SaslZkServer server = SaslZkServer.start(dir, Map.of("alice", "alice-pw"));
        ProcessHandle child = server.process();
        try {
            assertThat(child.isAlive()).isTrue();
            assertThat(ZkServers.mode(server.port())).isEqualTo("standalone");

            server.close();
            server.close();

            assertThat(child.isAlive()).isFalse();
            assertThat(accepts(server.port())).isFalse();
        } finally {
            ZkServers.closeQuietly(server);
        }
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
