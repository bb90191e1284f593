package dev.zkrecipes.it.support;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.zkrecipes.testing.EmbeddedZk;
import dev.zkrecipes.testing.LoopbackProxy;
import dev.zkrecipes.testing.LoopbackProxy.LostReply;
import dev.zkrecipes.testing.LoopbackProxy.Opcodes;
import dev.zkrecipes.testing.ProxiedClient;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.Watcher.Event.EventType;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The fault proxy's ZooKeeper-aware faults against a real server: a reply lost after the server
 * applied the request, and requests held in flight. A direct client (not proxied) shows what the
 * server really has.
 */
class LoopbackProxyIT {

    @RegisterExtension
    static final EmbeddedZk zk = EmbeddedZk.withClients(1);

    private static final Duration SESSION = Duration.ofSeconds(4);
    private static final Duration WAIT = Duration.ofSeconds(5);
    private static final byte[] DATA = "data".getBytes(UTF_8);
    private static final Set<Thread.State> BLOCKED = Set.of(Thread.State.WAITING, Thread.State.TIMED_WAITING);

    /** What the server has, seen without any proxy. */
    private static CuratorFramework direct() {
        return zk.client(0).curator();
    }

    private static String path(TestInfo info) {
        return "/" + info.getTestMethod().orElseThrow().getName();
    }

    @Test
    void opcodesAreZooKeepers() {
        assertThat(Opcodes.CREATE).isEqualTo(ZooDefs.OpCode.create);
        assertThat(Opcodes.DELETE).isEqualTo(ZooDefs.OpCode.delete);
        assertThat(Opcodes.EXISTS).isEqualTo(ZooDefs.OpCode.exists);
        assertThat(Opcodes.GET_DATA).isEqualTo(ZooDefs.OpCode.getData);
        assertThat(Opcodes.SET_DATA).isEqualTo(ZooDefs.OpCode.setData);
        assertThat(Opcodes.GET_CHILDREN).isEqualTo(ZooDefs.OpCode.getChildren);
        assertThat(Opcodes.SYNC).isEqualTo(ZooDefs.OpCode.sync);
        assertThat(Opcodes.PING).isEqualTo(ZooDefs.OpCode.ping);
        assertThat(Opcodes.GET_CHILDREN2).isEqualTo(ZooDefs.OpCode.getChildren2);
        assertThat(Opcodes.CHECK).isEqualTo(ZooDefs.OpCode.check);
        assertThat(Opcodes.MULTI).isEqualTo(ZooDefs.OpCode.multi);
        assertThat(Opcodes.CREATE2).isEqualTo(ZooDefs.OpCode.create2);
        assertThat(Opcodes.REMOVE_WATCHES).isEqualTo(ZooDefs.OpCode.removeWatches);
        assertThat(Opcodes.CREATE_CONTAINER).isEqualTo(ZooDefs.OpCode.createContainer);
        assertThat(Opcodes.CREATE_TTL).isEqualTo(ZooDefs.OpCode.createTTL);
        assertThat(Opcodes.SET_WATCHES).isEqualTo(ZooDefs.OpCode.setWatches);
        assertThat(Opcodes.SET_WATCHES2).isEqualTo(ZooDefs.OpCode.setWatches2);
        assertThat(Opcodes.CLOSE_SESSION).isEqualTo(ZooDefs.OpCode.closeSession);
        assertThat(Opcodes.CREATES).containsExactlyInAnyOrder(ZooDefs.OpCode.create, ZooDefs.OpCode.create2,
                ZooDefs.OpCode.createContainer, ZooDefs.OpCode.createTTL);
    }

    @Test
    void aLostCreateReplyIsAConnectionLossForANodeThatExists(TestInfo info) throws Exception {
        String path = path(info);
        try (LoopbackProxy proxy = LoopbackProxy.to(zk.port()); RawClient raw = new RawClient(proxy)) {
            long session = raw.zk.getSessionId();
            LostReply lost = proxy.loseNextReply(Opcodes.CREATES);

            assertThatThrownBy(() -> raw.zk.create(path, DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT))
                    .isInstanceOf(KeeperException.ConnectionLossException.class);

            lost.await(WAIT);
            assertThat(lost.lost()).isEqualTo(1);
            assertThat(direct().checkExists().forPath(path)).isNotNull();
            raw.awaitConnections(2);
            assertThat(raw.zk.getSessionId()).isEqualTo(session);
            assertThat(raw.states).contains(KeeperState.Disconnected).doesNotContain(KeeperState.Expired);
            // disarmed: the new connection answers, creates included
            assertThat(raw.zk.exists(path, false)).isNotNull();
            raw.zk.create(path + "-after", DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            assertThat(lost.lost()).isEqualTo(1);
            assertThat(raw.connections()).isEqualTo(2);
        }
    }

    @Test
    void lostRepliesToSetDataAndMultiWereAppliedOnTheServer(TestInfo info) throws Exception {
        String path = path(info);
        direct().create().forPath(path, "v1".getBytes(UTF_8));
        try (LoopbackProxy proxy = LoopbackProxy.to(zk.port()); RawClient raw = new RawClient(proxy)) {
            long session = raw.zk.getSessionId();

            LostReply lostSetData = proxy.loseNextReply(Opcodes.SET_DATA);
            assertThatThrownBy(() -> raw.zk.setData(path, "v2".getBytes(UTF_8), -1))
                    .isInstanceOf(KeeperException.ConnectionLossException.class);
            lostSetData.await(WAIT);
            assertThat(direct().getData().forPath(path)).asString(UTF_8).isEqualTo("v2");
            raw.awaitConnections(2);

            LostReply lostMulti = proxy.loseNextReply(Opcodes.MULTI);
            List<Op> ops = List.of(Op.setData(path, "v3".getBytes(UTF_8), -1),
                    Op.create(path + "/child", DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
            assertThatThrownBy(() -> raw.zk.multi(ops)).isInstanceOf(KeeperException.ConnectionLossException.class);
            lostMulti.await(WAIT);
            assertThat(direct().getData().forPath(path)).asString(UTF_8).isEqualTo("v3");
            assertThat(direct().checkExists().forPath(path + "/child")).isNotNull();
            raw.awaitConnections(3);
            assertThat(raw.zk.getSessionId()).isEqualTo(session);
        }
    }

    @Test
    void loseRepliesDropsAsManyRepliesAsAskedThenNoMore(TestInfo info) throws Exception {
        String path = path(info);
        try (LoopbackProxy proxy = LoopbackProxy.to(zk.port()); RawClient raw = new RawClient(proxy)) {
            LostReply lost = proxy.loseReplies(2, Opcodes.CREATES);

            for (int i = 1; i <= 2; i++) {
                String node = path + "-" + i;
                assertThatThrownBy(() -> raw.zk.create(node, DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT))
                        .isInstanceOf(KeeperException.ConnectionLossException.class);
                int dropped = i;
                await().atMost(WAIT).until(() -> lost.lost() == dropped);
                assertThat(direct().checkExists().forPath(node)).isNotNull();
                raw.awaitConnections(i + 1);
            }
            assertThat(lost.isDone()).isTrue();

            assertThat(raw.zk.create(path + "-3", DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT))
                    .isEqualTo(path + "-3");
            assertThat(lost.lost()).isEqualTo(2);
            assertThat(raw.connections()).isEqualTo(3);
        }
    }

    @Test
    void aStalledCreateIsInFlightUntilReleased(TestInfo info) throws Exception {
        String path = path(info);
        try (ProxiedClient client = zk.proxiedClient(SESSION)) {
            LoopbackProxy proxy = client.proxy();
            proxy.stallRequestsFrom(Opcodes.CREATES);

            Background<String> create = inBackground(() -> client.zk().curator().create().forPath(path, DATA));

            assertThat(proxy.awaitStalledRequest(WAIT)).isTrue();
            await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2)).until(() ->
                    !create.result().isDone()
                            && BLOCKED.contains(create.thread().getState())
                            && direct().checkExists().forPath(path) == null);

            proxy.releaseRequests();
            assertThat(create.result().get(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isEqualTo(path);
            assertThat(direct().checkExists().forPath(path)).isNotNull();
            assertThat(proxy.isStalling()).isFalse();
            // nothing is held any more, creates included
            assertThat(client.zk().curator().create().forPath(path + "-after")).isEqualTo(path + "-after");
        }
    }

    @Test
    void anInterruptedCallersStalledCreateLandsAfterRelease(TestInfo info) throws Exception {
        String path = path(info);
        try (ProxiedClient client = zk.proxiedClient(SESSION)) {
            LoopbackProxy proxy = client.proxy();
            proxy.stallRequestsFrom(Opcodes.CREATES);
            Background<String> create = inBackground(() -> client.zk().curator().create().forPath(path, DATA));
            assertThat(proxy.awaitStalledRequest(WAIT)).isTrue();

            create.thread().interrupt();

            await().atMost(WAIT).until(() -> create.result().isDone());
            assertThat(create.result()).isCompletedExceptionally();
            assertThatThrownBy(() -> create.result().join()).hasCauseInstanceOf(InterruptedException.class);
            assertThat(direct().checkExists().forPath(path)).isNull();

            proxy.releaseRequests();
            // the caller gave up, but its request was already on its way
            await().atMost(WAIT).until(() -> direct().checkExists().forPath(path) != null);
        }
    }

    @Test
    void aTimedStallHoldsEveryRequestThenReleasesByItself(TestInfo info) throws Exception {
        String path = path(info);
        Duration stall = Duration.ofMillis(800);
        try (LoopbackProxy proxy = LoopbackProxy.to(zk.port()); RawClient raw = new RawClient(proxy)) {
            long start = System.nanoTime();
            proxy.stallRequests(stall);
            Background<String> create = inBackground(() ->
                    raw.zk.create(path, DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));

            assertThat(proxy.awaitStalledRequest(WAIT)).isTrue();
            assertThat(proxy.isStalling()).isTrue();
            assertThat(create.result()).isNotDone();
            assertThat(direct().checkExists().forPath(path)).isNull();

            assertThat(create.result().get(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isEqualTo(path);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(stall);
            assertThat(proxy.isStalling()).isFalse();
            assertThat(raw.connections()).isEqualTo(1);
        }
    }

    /** A call running on a thread of its own. */
    private record Background<T>(Thread thread, CompletableFuture<T> result) {
    }

    private static <T> Background<T> inBackground(Callable<T> call) {
        CompletableFuture<T> result = new CompletableFuture<>();
        Thread thread = new Thread(() -> {
            try {
                result.complete(call.call());
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        }, "loopback-proxy-it-caller");
        thread.setDaemon(true);
        thread.start();
        return new Background<>(thread, result);
    }

    /**
     * A plain ZooKeeper handle through a proxy. Unlike Curator it does not retry, so a lost reply
     * surfaces as a {@link KeeperException.ConnectionLossException}; it reconnects by itself on the
     * same session. Records its connection states.
     */
    private static final class RawClient implements AutoCloseable {

        final List<KeeperState> states = new CopyOnWriteArrayList<>();
        final ZooKeeper zk;

        RawClient(LoopbackProxy proxy) throws IOException {
            zk = new ZooKeeper(proxy.connectString(), (int) SESSION.toMillis(), event -> {
                if (event.getType() == EventType.None) {
                    states.add(event.getState());
                }
            });
            awaitConnections(1);
        }

        /** How many times the handle has connected (SyncConnected), reconnections included. */
        int connections() {
            return (int) states.stream().filter(s -> s == KeeperState.SyncConnected).count();
        }

        void awaitConnections(int n) {
            await().atMost(WAIT).until(() -> connections() >= n);
        }

        @Override
        public void close() {
            try {
                zk.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
