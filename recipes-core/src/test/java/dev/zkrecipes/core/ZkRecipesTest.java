package dev.zkrecipes.core;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.imps.CuratorFrameworkState;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ZkRecipesTest {

    private static TestingServer server;

    @BeforeAll
    static void startServer() throws Exception {
        server = new TestingServer(true);
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.close();
    }

    @Test
    void builderRejectsMissingBlankRepeatedAndNonPositiveOptions() {
        assertThatThrownBy(() -> ZkRecipes.builder().build()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("connectString is required");
        assertThatThrownBy(() -> ZkRecipes.builder().connectString(" ")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ZkRecipes.builder().connectString("a:1").connectString("b:1"))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("already set");
        assertThatThrownBy(() -> ZkRecipes.builder().sessionTimeout(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sessionTimeout");
        assertThatThrownBy(() -> ZkRecipes.builder().connectionTimeout(Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ZkRecipes.builder().namespace("/abs")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ZkRecipes.builder().digestAuth("a:b", "pw")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ZkRecipes.builder().connectString(null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("connectString");
    }

    @Test
    void defaultsAreTheSafeOnes() {
        try (ZkRecipes zk = ZkRecipes.builder().connectString(server.getConnectString()).build()) {
            assertThat(zk.curator().getZookeeperClient().getConnectionTimeoutMs()).isEqualTo(5000);
            assertThat(zk.maxPayloadBytes()).isBetween(1_000_000, 1_048_575);
        }
    }

    @Test
    void startsConnectsAndClosesIdempotently() throws Exception {
        ZkRecipes zk = ZkRecipes.builder().connectString(server.getConnectString()).namespace("ns").build();
        assertThatThrownBy(() -> zk.awaitConnected(Duration.ofSeconds(1))).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("start()");
        zk.start();
        assertThatThrownBy(zk::start).isInstanceOf(IllegalStateException.class);
        assertThat(zk.awaitConnected(Duration.ofSeconds(10))).isTrue();
        zk.curator().create().forPath("/hello");
        zk.close();
        zk.close();
        assertThat(zk.curator().getState()).isEqualTo(CuratorFrameworkState.STOPPED);
        assertThatThrownBy(zk::checkStarted).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    }

    @Test
    void awaitConnectedReturnsFalseWhenNothingListens() throws Exception {
        try (ZkRecipes zk = ZkRecipes.builder().connectString("127.0.0.1:1").build()) {
            zk.start();
            assertThat(zk.awaitConnected(Duration.ofMillis(300))).isFalse();
        }
    }

    @Test
    void wrappedClientIsUsableAndStaysOpenAfterClose() throws Exception {
        CuratorFramework curator = CuratorFrameworkFactory.newClient(server.getConnectString(), new RetryOneTime(100));
        curator.start();
        try {
            ZkRecipes zk = ZkRecipes.wrap(curator);
            zk.checkStarted();
            assertThat(zk.awaitConnected(Duration.ofSeconds(10))).isTrue();
            zk.close();
            assertThat(curator.getState()).isEqualTo(CuratorFrameworkState.STARTED);
        } finally {
            curator.close();
        }
    }

    @Test
    void wrappedClientThatIsNotStartedFailsWithAClearMessage() {
        CuratorFramework curator = CuratorFrameworkFactory.newClient(server.getConnectString(), new RetryOneTime(100));
        ZkRecipes zk = ZkRecipes.wrap(curator);
        assertThatThrownBy(zk::checkStarted).isInstanceOf(IllegalStateException.class).hasMessageContaining("not started");
        zk.start();
        zk.checkStarted();
        curator.close();
    }

    @Test
    void digestAuthCreatesCreatorOnlyNodesOthersCannotRead() throws Exception {
        try (ZkRecipes owner = ZkRecipes.builder().connectString(server.getConnectString()).digestAuth("svc", "secret").build();
             ZkRecipes stranger = ZkRecipes.builder().connectString(server.getConnectString()).build()) {
            owner.start();
            stranger.start();
            owner.awaitConnected(Duration.ofSeconds(10));
            stranger.awaitConnected(Duration.ofSeconds(10));
            owner.curator().create().creatingParentsIfNeeded().forPath("/secure/x", "s".getBytes(UTF_8));

            assertThat(owner.curator().getACL().forPath("/secure/x")).hasSize(1)
                    .allSatisfy(acl -> assertThat(acl.getId().getScheme()).isEqualTo("digest"));
            assertThat(owner.curator().getACL().forPath("/secure/x").get(0).getPerms()).isEqualTo(ZooDefs.Perms.ALL);
            assertThatThrownBy(() -> stranger.curator().getData().forPath("/secure/x"))
                    .isInstanceOf(KeeperException.NoAuthException.class);
            assertThat(new String(owner.curator().getData().forPath("/secure/x"), UTF_8)).isEqualTo("s");
        }
    }
}
