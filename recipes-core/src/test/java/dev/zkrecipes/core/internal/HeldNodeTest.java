package dev.zkrecipes.core.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.zkrecipes.core.LeadershipLostException;
import dev.zkrecipes.core.NoSuchPathException;
import dev.zkrecipes.core.VersionConflictException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

class HeldNodeTest {

    private static TestingServer server;
    private static CuratorFramework curator;

    @BeforeAll
    static void start() throws Exception {
        server = new TestingServer(true);
        curator = CuratorFrameworkFactory.newClient(server.getConnectString(), new RetryOneTime(100));
        curator.start();
        curator.blockUntilConnected();
    }

    @AfterAll
    static void stop() throws Exception {
        curator.close();
        server.close();
    }

    private HeldNode hold(TestInfo info) throws Exception {
        String base = "/held/" + info.getTestMethod().orElseThrow().getName();
        curator.create().creatingParentsIfNeeded().forPath(base + "/resource", "0".getBytes(UTF_8));
        Stat stat = new Stat();
        String path = curator.create().storingStatIn(stat).withMode(CreateMode.EPHEMERAL).forPath(base + "/holder");
        return new HeldNode(curator, path, stat.getCzxid(), stat.getEphemeralOwner(), "the test's lock");
    }

    private static String resource(HeldNode node) {
        return node.path().replace("/holder", "/resource");
    }

    @Test
    void tokenIsTheCzxidOfTheNode(TestInfo info) throws Exception {
        HeldNode node = hold(info);
        assertThat(node.token().value()).isEqualTo(curator.checkExists().forPath(node.path()).getCzxid());
    }

    @Test
    void commitAppliesWhileTheNodeExists(TestInfo info) throws Exception {
        HeldNode node = hold(info);
        node.commit(curator.transactionOp().setData().forPath(resource(node), "1".getBytes(UTF_8)));
        assertThat(new String(curator.getData().forPath(resource(node)), UTF_8)).isEqualTo("1");
    }

    @Test
    void commitIsRefusedByTheServerOnceTheNodeIsGoneAndNothingApplies(TestInfo info) throws Exception {
        HeldNode node = hold(info);
        curator.delete().forPath(node.path());

        assertThatThrownBy(() -> node.commit(curator.transactionOp().setData().forPath(resource(node), "1".getBytes(UTF_8))))
                .isInstanceOf(LeadershipLostException.class).hasMessageContaining("is gone");
        assertThat(new String(curator.getData().forPath(resource(node)), UTF_8)).isEqualTo("0");
        assertThat(node.isEnded()).isTrue();
    }

    @Test
    void commitIsRefusedLocallyWhileSuspendedAndAfterEnd(TestInfo info) throws Exception {
        HeldNode node = hold(info);
        assertThat(node.suspend()).isTrue();
        assertThat(node.isValid()).isFalse();
        assertThatThrownBy(() -> node.commit()).isInstanceOf(LeadershipLostException.class).hasMessageContaining("suspended");
        assertThat(node.resume()).isTrue();
        node.commit();
        assertThat(node.end()).isTrue();
        assertThat(node.resume()).isFalse();
        assertThatThrownBy(() -> node.commit()).isInstanceOf(LeadershipLostException.class).hasMessageContaining("ended");
    }

    @Test
    void failureOfAnotherOpIsReportedAsItselfNotAsLostLeadership(TestInfo info) throws Exception {
        HeldNode node = hold(info);
        assertThatThrownBy(() -> node.commit(curator.transactionOp().setData().withVersion(99).forPath(resource(node), new byte[0])))
                .isInstanceOf(VersionConflictException.class);
        assertThat(node.isValid()).isTrue();
    }

    @Test
    void aRefusedOpOnAMissingNodeNamesTheOpAndPath(TestInfo info) throws Exception {
        HeldNode node = hold(info);
        String missing = resource(node) + "-missing";
        assertThatThrownBy(() -> node.commit(curator.transactionOp().setData().forPath(missing, new byte[0])))
                .isInstanceOf(NoSuchPathException.class)
                .hasMessageContaining("set_data of '" + missing + "'")
                .hasMessageContaining("nothing in the transaction was applied");
        assertThat(node.isValid()).isTrue();
    }

    @Test
    void aCommitThatFindsTheNodeGoneTellsTheLossListenerOnce(TestInfo info) throws Exception {
        HeldNode node = hold(info);
        List<HeldNode.Loss> heard = new CopyOnWriteArrayList<>();
        node.onLoss((n, why) -> heard.add(why));
        curator.delete().forPath(node.path());

        assertThatThrownBy(() -> node.commit()).isInstanceOf(LeadershipLostException.class);
        assertThatThrownBy(() -> node.commit()).isInstanceOf(LeadershipLostException.class);
        assertThat(heard).containsExactly(HeldNode.Loss.NODE_DELETED);
    }

    @Test
    void aNodeOfAnotherSessionIsNeverCommittedThrough(TestInfo info) throws Exception {
        HeldNode mine = hold(info);
        HeldNode foreign = new HeldNode(curator, mine.path(), mine.token().value(), mine.sessionId() + 1, "a stale hold");
        assertThatThrownBy(() -> foreign.commit(curator.transactionOp().setData().forPath(resource(mine), "x".getBytes(UTF_8))))
                .isInstanceOf(LeadershipLostException.class).hasMessageContaining("current session");
        assertThat(new String(curator.getData().forPath(resource(mine)), UTF_8)).isEqualTo("0");
    }

    @Test
    void commitThroughANamespacedClientWritesInsideTheNamespaceAndReportsItsPaths(TestInfo info) throws Exception {
        CuratorFramework ns = curator.usingNamespace("tenant");
        String base = "/held/" + info.getTestMethod().orElseThrow().getName();
        Stat stat = new Stat();
        String path = ns.create().storingStatIn(stat).creatingParentsIfNeeded().withMode(CreateMode.EPHEMERAL)
                .forPath(base + "/holder");
        HeldNode node = new HeldNode(ns, path, stat.getCzxid(), stat.getEphemeralOwner(), "a namespaced lock");

        List<CuratorTransactionResult> results = node.commit(ns.transactionOp().create().forPath(base + "/made", new byte[0]));

        assertThat(curator.checkExists().forPath("/tenant" + base + "/made")).isNotNull();
        assertThat(results.get(1).getForPath()).isEqualTo(base + "/made");
        assertThat(results.get(1).getResultPath()).isEqualTo(base + "/made");
    }
}
