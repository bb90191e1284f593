package dev.zkrecipes.it.lock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.zkrecipes.core.FencingToken;
import dev.zkrecipes.core.NotAuthorizedException;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.lock.DistributedLock;
import dev.zkrecipes.lock.LockHandle;
import dev.zkrecipes.lock.LockHolder;
import dev.zkrecipes.lock.LockListener;
import dev.zkrecipes.testing.ClientWatchers;
import dev.zkrecipes.testing.Clients;
import dev.zkrecipes.testing.LoopbackProxy;
import dev.zkrecipes.testing.LoopbackProxy.Opcodes;
import dev.zkrecipes.testing.OverlapChecker;
import dev.zkrecipes.testing.SessionKiller;
import dev.zkrecipes.testing.TokenHistory;
import dev.zkrecipes.testing.ZkServers;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.curator.retry.RetryNTimes;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Review of the lock's direct hot path (create + list + early own-node watch + delete sent on
 * ZooKeeper's own handle, Curator as the fallback): namespaces, ACLs, parents that are missing or
 * were deleted, the early watch still in flight, lost replies, abandoned creates, wrapped clients,
 * and exclusion under a blackhole mid-acquire.
 */
class LockDirectPathReviewIT {

    private static final Duration SESSION = Duration.ofSeconds(3);
    private static final Duration WAIT = Duration.ofSeconds(10);

    private static TestingServer server;

    private final List<AutoCloseable> closeAfter = new ArrayList<>();

    @BeforeAll
    static void startServer() {
        server = ZkServers.startServer();
    }

    @AfterAll
    static void stopServer() {
        ZkServers.closeQuietly(server);
    }

    @AfterEach
    void cleanUp() {
        for (int i = closeAfter.size() - 1; i >= 0; i--) {
            ZkServers.closeQuietly(closeAfter.get(i));
        }
        closeAfter.clear();
    }

    // ---------------------------------------------------------------------------------------------
    // set-up helpers

    /** A client built by ZkRecipes (so its ACLs are known: the direct path), closed after the test. */
    private ZkRecipes client(String namespace, String connectString, String user, String password) throws InterruptedException {
        ZkRecipes.Builder b = ZkRecipes.builder()
                .connectString(connectString)
                .sessionTimeout(SESSION)
                .connectionTimeout(SESSION)
                .retryPolicy(new RetryNTimes(20, 100));
        if (namespace != null) {
            b.namespace(namespace);
        }
        if (user != null) {
            b.digestAuth(user, password);
        }
        ZkRecipes c = b.build();
        closeAfter.add(c);
        c.start();
        assertThat(c.awaitConnected(WAIT)).as("client connected").isTrue();
        return c;
    }

    private ZkRecipes client(String namespace) throws InterruptedException {
        return client(namespace, server.getConnectString(), null, null);
    }

    /** A plain client without namespace or auth: the operator's view of the whole tree. */
    private CuratorFramework operator() {
        ZkRecipes op = Clients.connect(server.getConnectString(), SESSION);
        closeAfter.add(op);
        return op.curator();
    }

    private record Proxied(LoopbackProxy proxy, ZkRecipes zk) {
    }

    /** A ZkRecipes-built client (optionally namespaced) behind its own fault proxy. */
    private Proxied proxied(String namespace) throws InterruptedException {
        LoopbackProxy proxy = LoopbackProxy.to(server.getPort());
        closeAfter.add(proxy);
        return new Proxied(proxy, client(namespace, proxy.connectString(), null, null));
    }

    private static String full(String namespace, String path) {
        return namespace == null ? path : "/" + namespace + path;
    }

    private static List<String> children(CuratorFramework op, String fullPath) throws Exception {
        try {
            return op.getChildren().forPath(fullPath);
        } catch (KeeperException.NoNodeException e) {
            return List.of();
        }
    }

    /** The one child of {@code fullParent} whose czxid is {@code token}. */
    private static String nodeOf(CuratorFramework op, String fullParent, FencingToken token) throws Exception {
        for (String child : children(op, fullParent)) {
            Stat stat = op.checkExists().forPath(fullParent + "/" + child);
            if (stat != null && stat.getCzxid() == token.value()) {
                return child;
            }
        }
        throw new AssertionError("no child of " + fullParent + " has czxid " + token.value() + ": " + children(op, fullParent));
    }

    private static long sessionOf(ZkRecipes zk) throws Exception {
        return zk.curator().getZookeeperClient().getZooKeeper().getSessionId();
    }

    private static final class Events implements LockListener {
        final List<FencingToken> suspended = new CopyOnWriteArrayList<>();
        final List<FencingToken> resumed = new CopyOnWriteArrayList<>();
        final List<FencingToken> lost = new CopyOnWriteArrayList<>();

        @Override
        public void suspended(FencingToken token) {
            suspended.add(token);
        }

        @Override
        public void resumed(FencingToken token) {
            resumed.add(token);
        }

        @Override
        public void lost(FencingToken token) {
            lost.add(token);
        }
    }

    private static Events events(DistributedLock lock) {
        Events e = new Events();
        lock.addListener(e);
        return e;
    }

    private LockThread lockThread(String label, Callable<LockHandle> acquire) {
        LockThread t = new LockThread(label, acquire);
        closeAfter.add(t);
        return t;
    }

    /** Takes and releases {@code name} once, so that the lock's node exists and is known to the engine. */
    private static void warm(DistributedLock lock) throws InterruptedException {
        lock.tryAcquire(WAIT).orElseThrow().close();
    }

    // ---------------------------------------------------------------------------------------------
    // namespaces

    @Test
    void namespacedClientNodesTokensHoldersAndOperatorDelete() throws Exception {
        String ns = "dp-ns1";
        ZkRecipes a = client(ns);
        CuratorFramework op = operator();
        warm(DistributedLock.of(a, "warm"));   // /zkr/locks exists: "n1" is created on the direct path
        DistributedLock lock = DistributedLock.of(a, "n1");
        Events ev = events(lock);

        LockHandle held = lock.tryAcquire(WAIT).orElseThrow();
        String parent = full(ns, "/zkr/locks/n1");
        List<String> line = children(op, parent);
        assertThat(line).as("one node, under the namespace").hasSize(1);
        assertThat(op.checkExists().forPath("/zkr/locks/n1")).as("nothing outside the namespace").isNull();
        Stat stat = op.checkExists().forPath(parent + "/" + line.get(0));
        assertThat(stat.getCzxid()).as("the token is the node's czxid").isEqualTo(held.token().value());
        assertThat(stat.getEphemeralOwner()).isEqualTo(sessionOf(a));
        assertThat(line.get(0)).matches("_c_[0-9a-f-]{36}-lock-\\d{10}");
        assertThat(op.getACL().forPath(parent + "/" + line.get(0))).containsExactlyElementsOf(ZooDefs.Ids.OPEN_ACL_UNSAFE);
        List<LockHolder> holders = lock.holders();
        assertThat(holders).extracting(LockHolder::token).containsExactly(held.token());
        assertThat(holders).allMatch(LockHolder::holding);

        op.delete().forPath(parent + "/" + line.get(0));
        await("the namespaced hold ends when its node is deleted").atMost(Duration.ofSeconds(5)).until(() -> !held.isValid());
        await().atMost(Duration.ofSeconds(5)).until(() -> ev.lost.contains(held.token()));
        assertThatCode(held::close).doesNotThrowAnyException();

        LockHandle again = lock.tryAcquire(WAIT).orElseThrow();
        assertThat(again.token()).isGreaterThan(held.token());
        again.close();
        assertThat(children(op, parent)).as("a released lock leaves no node").isEmpty();
        assertThat(ev.lost).containsExactly(held.token());
    }

    // ---------------------------------------------------------------------------------------------
    // the early own-node watch

    @Test
    void operatorDeleteWhileTheEarlyWatchIsInFlightEndsTheHold() throws Exception {
        earlyWatchInFlightThenDeleted(null, "early-plain");
    }

    @Test
    void operatorDeleteWhileTheEarlyWatchIsInFlightEndsTheHoldWithNamespace() throws Exception {
        earlyWatchInFlightThenDeleted("dp-early", "early-ns");
    }

    private void earlyWatchInFlightThenDeleted(String ns, String name) throws Exception {
        Proxied a = proxied(ns);
        ZkRecipes b = client(ns);
        CuratorFramework op = operator();
        DistributedLock lock = DistributedLock.of(a.zk(), name);
        Events ev = events(lock);
        warm(lock);
        String parent = full(ns, "/zkr/locks/" + name);

        // the early watch (a getData sent after the create and list were answered) is held in the network
        a.proxy().stallRequestsFrom(Opcodes.GET_DATA);
        LockHandle held;
        try {
            held = lock.tryAcquire(Duration.ofSeconds(2)).orElseThrow();
            assertThat(a.proxy().awaitStalledRequest(Duration.ofSeconds(1))).as("the early own-node watch is in flight").isTrue();
            op.delete().forPath(parent + "/" + nodeOf(op, parent, held.token()));
        } finally {
            a.proxy().releaseRequests();
        }
        await("the hold ends although its watch was set after the delete").atMost(Duration.ofSeconds(5))
                .until(() -> !held.isValid());
        await().atMost(Duration.ofSeconds(5)).until(() -> ev.lost.contains(held.token()));
        Optional<LockHandle> other = DistributedLock.of(b, name).tryAcquire(Duration.ofSeconds(2));
        assertThat(other).isPresent();
        assertThat(other.get().token()).isGreaterThan(held.token());
        other.get().close();
        assertThatCode(held::close).doesNotThrowAnyException();
    }

    @Test
    void earlyWatchLostToACutStillLeavesTheHoldWatched() throws Exception {
        String name = "early-cut";
        Proxied a = proxied(null);
        CuratorFramework op = operator();
        DistributedLock lock = DistributedLock.of(a.zk(), name);
        Events ev = events(lock);
        warm(lock);
        String parent = "/zkr/locks/" + name;

        a.proxy().stallRequestsFrom(Opcodes.GET_DATA);
        LockHandle held;
        try {
            held = lock.tryAcquire(Duration.ofSeconds(2)).orElseThrow();
            assertThat(a.proxy().awaitStalledRequest(Duration.ofSeconds(1))).isTrue();
            a.proxy().cut();  // the early watch's request dies with the connection: CONNECTIONLOSS
        } finally {
            a.proxy().releaseRequests();
        }
        await("the hold resumes on the same session").atMost(WAIT).until(() -> ev.resumed.contains(held.token()));
        assertThat(held.isValid()).isTrue();
        op.delete().forPath(parent + "/" + nodeOf(op, parent, held.token()));
        await("a later delete still ends the hold").atMost(Duration.ofSeconds(5)).until(() -> !held.isValid());
        await().atMost(Duration.ofSeconds(5)).until(() -> ev.lost.contains(held.token()));
        held.close();
    }

    @Test
    void releaseWhileTheEarlyWatchIsInFlightIsNotAnnouncedAsLost() throws Exception {
        String name = "early-release";
        Proxied a = proxied(null);
        CuratorFramework op = operator();
        DistributedLock lock = DistributedLock.of(a.zk(), name);
        Events ev = events(lock);
        warm(lock);

        a.proxy().stallRequestsFrom(Opcodes.GET_DATA);
        try {
            LockHandle held = lock.tryAcquire(Duration.ofSeconds(2)).orElseThrow();
            assertThat(a.proxy().awaitStalledRequest(Duration.ofSeconds(1))).isTrue();
            CompletableFuture.delayedExecutor(300, TimeUnit.MILLISECONDS).execute(() -> a.proxy().releaseRequests());
            held.close();  // its delete queues behind the held watch
            assertThat(held.isValid()).isFalse();
        } finally {
            a.proxy().releaseRequests();
        }
        await("released: no node").atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(children(op, "/zkr/locks/" + name)).isEmpty());
        await("a plain release is never announced as lost").during(Duration.ofMillis(700)).atMost(Duration.ofSeconds(2))
                .until(ev.lost::isEmpty);
        LockHandle again = lock.tryAcquire(Duration.ofSeconds(2)).orElseThrow();
        assertThat(again.isValid()).isTrue();
        again.close();
    }

    // ---------------------------------------------------------------------------------------------
    // ACLs

    @Test
    void digestClientsNodesAreCreatorOnlyOnBothPathsAndAnotherIdentityCannotTouchThem() throws Exception {
        String ns = "dp-acl";
        ZkRecipes alice = client(ns, server.getConnectString(), "alice", "alice-pw");
        ZkRecipes bob = client(ns, server.getConnectString(), "bob", "bob-pw");
        CuratorFramework anonymous = operator();
        List<ACL> aliceOnly = List.of(new ACL(ZooDefs.Perms.ALL,
                new Id("digest", DigestAuthenticationProvider.generateDigest("alice:alice-pw"))));
        List<ACL> shared = List.of(new ACL(ZooDefs.Perms.READ | ZooDefs.Perms.CREATE, ZooDefs.Ids.ANYONE_ID_UNSAFE));

        warm(DistributedLock.of(alice, "acl-warm"));  // Curator makes the shared parents
        assertThat(alice.curator().getACL().forPath("/zkr/locks")).containsExactlyElementsOf(shared);

        // direct: the lock's node (a new name) and our node both on the handle
        DistributedLock direct = DistributedLock.of(alice, "acl-direct");
        LockHandle held = direct.tryAcquire(WAIT).orElseThrow();
        List<String> nodes = alice.curator().getChildren().forPath("/zkr/locks/acl-direct");
        assertThat(nodes).hasSize(1);
        String heldPath = "/zkr/locks/acl-direct/" + nodes.get(0);
        assertThat(alice.curator().getACL().forPath("/zkr/locks/acl-direct")).as("the lock's node").containsExactlyElementsOf(aliceOnly);
        assertThat(alice.curator().getACL().forPath(heldPath)).as("the held node").containsExactlyElementsOf(aliceOnly);

        // through Curator (a nested new name: its parent is missing), for comparison
        DistributedLock nested = DistributedLock.of(alice, "acl-nested/deep");
        LockHandle nestedHeld = nested.tryAcquire(WAIT).orElseThrow();
        String nestedNode = alice.curator().getChildren().forPath("/zkr/locks/acl-nested/deep").get(0);
        assertThat(alice.curator().getACL().forPath("/zkr/locks/acl-nested/deep/" + nestedNode)).containsExactlyElementsOf(aliceOnly);
        assertThat(alice.curator().getACL().forPath("/zkr/locks/acl-nested/deep")).containsExactlyElementsOf(aliceOnly);

        // another identity, and no identity, can neither delete the held node nor queue
        assertThatThrownBy(() -> bob.curator().delete().forPath(heldPath)).isInstanceOf(KeeperException.NoAuthException.class);
        assertThatThrownBy(() -> anonymous.delete().forPath(full(ns, heldPath))).isInstanceOf(KeeperException.NoAuthException.class);
        assertThatThrownBy(() -> DistributedLock.of(bob, "acl-direct").tryAcquire(Duration.ofSeconds(2)))
                .isInstanceOf(NotAuthorizedException.class);
        assertThat(alice.curator().getChildren().forPath("/zkr/locks/acl-direct")).containsExactlyElementsOf(nodes);
        assertThat(held.isValid()).isTrue();

        held.close();
        nestedHeld.close();
        assertThat(alice.curator().getChildren().forPath("/zkr/locks/acl-direct")).isEmpty();
        // bob's own lock next door works, with his own ACL
        LockHandle bobs = DistributedLock.of(bob, "acl-bob").tryAcquire(WAIT).orElseThrow();
        assertThat(bob.curator().getACL().forPath("/zkr/locks/acl-bob")).containsExactly(new ACL(ZooDefs.Perms.ALL,
                new Id("digest", DigestAuthenticationProvider.generateDigest("bob:bob-pw"))));
        bobs.close();
    }

    // ---------------------------------------------------------------------------------------------
    // parents that are missing

    @Test
    void newNamesAndParentsDeletedBetweenAcquiresFallBackInsteadOfFailing() throws Exception {
        String ns = "dp-reap";
        ZkRecipes a = client(ns);
        CuratorFramework op = operator();
        String parent = full(ns, "/zkr/locks/fresh");
        DistributedLock lock = DistributedLock.of(a, "fresh");

        // never used, in a namespace that does not exist yet
        LockHandle first = lock.tryAcquire(WAIT).orElseThrow();
        assertThat(children(op, parent)).hasSize(1);
        first.close();
        assertThat(children(op, parent)).isEmpty();

        // the lock's node reaped (an operator does what the container reaper would) while the engine knows it
        op.delete().forPath(parent);
        LockHandle second = lock.tryAcquire(WAIT).orElseThrow();
        assertThat(second.token()).isGreaterThan(first.token());
        assertThat(nodeOf(op, parent, second.token())).isNotNull();
        second.close();

        // again, with tryAcquire(0): it still gets to create the parent and take the free lock
        op.delete().forPath(parent);
        Optional<LockHandle> once = lock.tryAcquire(Duration.ZERO);
        assertThat(once).as("tryAcquire(0) on a free lock whose node was reaped").isPresent();
        once.get().close();

        // the whole namespace gone
        op.delete().deletingChildrenIfNeeded().forPath("/" + ns);
        LockHandle third = lock.tryAcquire(WAIT).orElseThrow();
        assertThat(third.isValid()).isTrue();
        String node = nodeOf(op, parent, third.token());
        assertThat(op.checkExists().forPath(parent + "/" + node).getEphemeralOwner()).isEqualTo(sessionOf(a));
        third.close();
        assertThat(children(op, parent)).isEmpty();
    }

    // ---------------------------------------------------------------------------------------------
    // lost replies, abandoned creates

    @Test
    void lostCreateReplyIsFoundByItsProtectedIdAndTheHoldIsWatched() throws Exception {
        String ns = "dp-lost";
        String name = "lost-create";
        Proxied a = proxied(ns);
        CuratorFramework op = operator();
        DistributedLock lock = DistributedLock.of(a.zk(), name);
        Events ev = events(lock);
        warm(lock);
        String parent = full(ns, "/zkr/locks/" + name);

        LoopbackProxy.LostReply lost = a.proxy().loseNextReply(Opcodes.CREATES);
        LockHandle held = lock.tryAcquire(WAIT).orElseThrow();
        assertThat(lost.isDone()).as("the create's reply was dropped").isTrue();
        List<String> line = children(op, parent);
        assertThat(line).as("one node: the create applied, not a second one").hasSize(1);
        Stat stat = op.checkExists().forPath(parent + "/" + line.get(0));
        assertThat(stat.getCzxid()).isEqualTo(held.token().value());
        assertThat(stat.getEphemeralOwner()).isEqualTo(sessionOf(a.zk()));
        assertThat(held.isValid()).isTrue();

        op.delete().forPath(parent + "/" + line.get(0));
        await("the hold found after a lost reply is watched too").atMost(Duration.ofSeconds(5)).until(() -> !held.isValid());
        await().atMost(Duration.ofSeconds(5)).until(() -> ev.lost.contains(held.token()));
        held.close();
        LockHandle again = lock.tryAcquire(WAIT).orElseThrow();
        again.close();
        assertThat(children(op, parent)).isEmpty();
    }

    @Test
    void abandonedCreatesWhoseRepliesAreLostLeaveNoNode() throws Exception {
        String name = "abandoned";
        Proxied a = proxied(null);
        CuratorFramework op = operator();
        DistributedLock lock = DistributedLock.of(a.zk(), name);
        warm(lock);
        String parent = "/zkr/locks/" + name;

        // timed out while the create is held; then it lands and its reply is lost
        LoopbackProxy.LostReply lost = a.proxy().loseNextReply(Opcodes.CREATES);
        a.proxy().stallRequestsFrom(Opcodes.CREATES);
        long start = System.nanoTime();
        Optional<LockHandle> got;
        try {
            got = lock.tryAcquire(Duration.ofMillis(200));
        } finally {
            a.proxy().releaseRequests();
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(got).isEmpty();
        assertThat(millis).as("tryAcquire(200 ms) with its create held took %d ms", millis).isLessThan(1500);
        lost.await(Duration.ofSeconds(5));
        await("the create that landed after its caller gave up, reply lost, is found and deleted")
                .atMost(Duration.ofSeconds(8)).untilAsserted(() -> assertThat(children(op, parent)).isEmpty());

        // interrupted while the create is held; then it lands and its reply is lost
        LoopbackProxy.LostReply lost2 = a.proxy().loseNextReply(Opcodes.CREATES);
        a.proxy().stallRequestsFrom(Opcodes.CREATES);
        CompletableFuture<Throwable> outcome = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                lock.acquire().close();
                outcome.complete(null);
            } catch (Throwable e) {
                outcome.complete(e);
            }
        }, "review-interrupted");
        t.setDaemon(true);
        try {
            t.start();
            assertThat(a.proxy().awaitStalledRequest(Duration.ofSeconds(2))).isTrue();
            t.interrupt();
            assertThat(outcome.get(5, TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);
        } finally {
            a.proxy().releaseRequests();
        }
        lost2.await(Duration.ofSeconds(5));
        await("the interrupted create's node, reply lost, is found and deleted")
                .atMost(Duration.ofSeconds(8)).untilAsserted(() -> assertThat(children(op, parent)).isEmpty());

        Optional<LockHandle> next = lock.tryAcquire(Duration.ofSeconds(2));
        assertThat(next).isPresent();
        next.get().close();
        assertThat(children(op, parent)).isEmpty();
    }

    // ---------------------------------------------------------------------------------------------
    // a waiter's own-node watch state across a session change

    /**
     * B waits behind A (its own node watched: the early watch and the blocker path's watch). B's
     * connection is cut and its session expires behind its back (so B never hears its old node
     * go); A releases; B's new session re-creates its node, and the
     * reply to that create is lost, so the node is found by its protected id. B is granted at once.
     * Its hold must watch its node: an operator deleting it must end the hold.
     */
    @Test
    void holdGrantedInANewSessionAfterALostCreateReplyIsWatched() throws Exception {
        String ns = "dp-stale";
        String name = "stale";
        ZkRecipes a = client(ns);
        Proxied b = proxied(ns);
        CuratorFramework op = operator();
        String parent = full(ns, "/zkr/locks/" + name);
        DistributedLock lockA = DistributedLock.of(a, name);
        DistributedLock lockB = DistributedLock.of(b.zk(), name);
        Events evB = events(lockB);

        LockHandle heldA = lockA.tryAcquire(WAIT).orElseThrow();
        String nodeA = nodeOf(op, parent, heldA.token());
        LockThread waiterB = lockThread("B", () -> lockB.tryAcquire(Duration.ofSeconds(30)).orElseThrow());
        await("B waits, watching A's node").atMost(WAIT)
                .until(() -> !ClientWatchers.under(b.zk(), parent + "/" + nodeA).isEmpty() && children(op, parent).size() == 2);
        long oldSession = sessionOf(b.zk());
        // diagnostics only: B's waiter's own-node flags, sampled every millisecond, transitions kept
        Object waiter = onlyWaiter(lockB);
        List<String> transitions = sample(waiter);
        System.out.println("LockDirectPathReviewIT: B waits: " + waiterState(waiter));

        // B's connection is gone before its session is: no event about its old node ever reaches it
        b.proxy().blackhole();
        b.proxy().cut();
        SessionKiller.expire(oldSession, b.zk().curator().getZookeeperClient().getZooKeeper().getSessionPasswd(),
                server.getConnectString());
        await("B's node went with its session").atMost(WAIT).until(() -> children(op, parent).size() == 1);
        heldA.close();
        LoopbackProxy.LostReply lost = b.proxy().loseNextReply(Opcodes.CREATES);
        // once the create's reply is lost, hold B's search for its node (a getChildren on the next
        // connection) until the client is back and has told its connection listeners: the hold is
        // granted after the reconnect, so no later reconnect re-checks it
        CompletableFuture<Void> searchHeld = CompletableFuture.runAsync(() -> {
            lost.await(Duration.ofSeconds(20));
            b.proxy().stallRequestsFrom(Opcodes.GET_CHILDREN2, Opcodes.GET_CHILDREN);
            try {
                await().pollDelay(Duration.ofMillis(100)).atMost(WAIT)
                        .until(() -> b.zk().curator().getZookeeperClient().isConnected());
                await().pollDelay(Duration.ofMillis(300)).atMost(Duration.ofSeconds(1)).until(() -> true);
            } finally {
                b.proxy().releaseRequests();
            }
        });
        b.proxy().heal();

        LockHandle heldB = waiterB.handle(Duration.ofSeconds(20));
        searchHeld.get(5, TimeUnit.SECONDS);
        await().pollDelay(Duration.ofMillis(200)).atMost(Duration.ofSeconds(1)).until(() -> true);
        System.out.println("LockDirectPathReviewIT: B granted " + heldB.token() + ", create replies lost: " + lost
                + ", B suspended " + evB.suspended + ", resumed " + evB.resumed + ", watchers "
                + ClientWatchers.under(b.zk(), parent) + "\n  waiter transitions:\n  " + String.join("\n  ", transitions));
        assertThat(lost.isDone()).as("scenario: B's create in its new session lost its reply").isTrue();
        assertThat(sessionOf(b.zk())).isNotEqualTo(oldSession);
        String nodeB = nodeOf(op, parent, heldB.token());
        assertThat(op.checkExists().forPath(parent + "/" + nodeB).getEphemeralOwner()).isEqualTo(sessionOf(b.zk()));
        assertThat(heldB.isValid()).isTrue();

        op.delete().forPath(parent + "/" + nodeB);
        await("B's hold ends when an operator deletes its node").atMost(Duration.ofSeconds(5)).until(() -> !heldB.isValid());
        await().atMost(Duration.ofSeconds(5)).until(() -> evB.lost.contains(heldB.token()));
    }

    /**
     * B waits behind A; the early own-node watch sent with B's create is lost to a cut
     * (CONNECTIONLOSS), so B watches its node through Curator (ownArmed). A second reconnect wakes
     * B: it must not take the stale CONNECTIONLOSS answer for the watch sent with the create and
     * read the line again and again without waiting (it did, before {@code watchSentWithCreate}).
     */
    @Test
    void waiterWhoseEarlyWatchWasLostDoesNotSpinAfterALaterReconnect() throws Exception {
        String name = "spin";
        ZkRecipes a = client(null);
        Proxied b = proxied(null);
        CuratorFramework op = operator();
        String parent = "/zkr/locks/" + name;
        DistributedLock lockB = DistributedLock.of(b.zk(), name);
        warm(lockB);
        LockHandle heldA = DistributedLock.of(a, name).tryAcquire(WAIT).orElseThrow();
        String nodeA = nodeOf(op, parent, heldA.token());

        b.proxy().stallRequestsFrom(Opcodes.GET_DATA);
        LockThread waiterB;
        try {
            waiterB = lockThread("B", () -> lockB.tryAcquire(Duration.ofSeconds(30)).orElseThrow());
            assertThat(b.proxy().awaitStalledRequest(WAIT)).as("B's early own-node watch is held").isTrue();
            b.proxy().cut();
        } finally {
            b.proxy().releaseRequests();
        }
        await("B waits again, watching its node and A's through Curator").atMost(WAIT).until(() -> {
            List<String> line = children(op, parent);
            return line.size() == 2 && line.stream().allMatch(n -> {
                try {
                    return !ClientWatchers.under(b.zk(), parent + "/" + n).isEmpty();
                } catch (Exception e) {
                    return false;
                }
            });
        });
        b.proxy().cut();  // wakes B's wait; the line is unchanged
        await().pollDelay(Duration.ofMillis(500)).atMost(WAIT).until(() -> b.zk().curator().getZookeeperClient().isConnected());
        long before = reads(b.proxy());
        await().pollDelay(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(2)).until(() -> true);
        long perSecond = reads(b.proxy()) - before;
        assertThat(perSecond).as("line reads by a waiter that nothing changed for, in 1 s").isLessThan(20);
        assertThat(waiterB.acquired).isNotDone();

        heldA.close();
        LockHandle heldB = waiterB.handle(Duration.ofSeconds(5));
        assertThat(heldB.isValid()).isTrue();
        assertThat(children(op, parent)).doesNotContain(nodeA).hasSize(1);
    }

    private static long reads(LoopbackProxy proxy) {
        Map<Integer, Long> seen = proxy.requestsSeen();
        return seen.getOrDefault(Opcodes.GET_CHILDREN, 0L) + seen.getOrDefault(Opcodes.GET_CHILDREN2, 0L);
    }

    /** Diagnostics: the one waiting acquire of {@code lock} (its registry's waiter), or null. */
    private static Object onlyWaiter(DistributedLock lock) throws Exception {
        Field rf = DistributedLock.class.getDeclaredField("registry");
        rf.setAccessible(true);
        Object registry = rf.get(lock);
        Field wf = registry.getClass().getDeclaredField("waiters");
        wf.setAccessible(true);
        Set<?> waiters = (Set<?>) wf.get(registry);
        return waiters.isEmpty() ? null : waiters.iterator().next();
    }

    /** Diagnostics: the own-node flags of a waiter. */
    private static String waiterState(Object waiter) {
        if (waiter == null) {
            return "no waiter";
        }
        StringBuilder sb = new StringBuilder();
        for (String field : List.of("ownPath", "ownGone", "ownArmed", "ownWatchPending", "heldAs")) {
            try {
                Field f = waiter.getClass().getDeclaredField(field);
                f.setAccessible(true);
                Object v = f.get(waiter);
                if (v instanceof String path) {
                    v = path.substring(path.lastIndexOf('-') + 1);
                } else if (field.equals("heldAs")) {
                    v = v != null;
                }
                sb.append(field).append('=').append(v).append(' ');
            } catch (ReflectiveOperationException e) {
                sb.append(field).append("=? ");
            }
        }
        return sb.toString().trim();
    }

    /** Diagnostics: samples {@code waiter} every millisecond until the test ends; the list of changes. */
    private List<String> sample(Object waiter) {
        List<String> transitions = new CopyOnWriteArrayList<>();
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "review-waiter-sampler");
            t.setDaemon(true);
            return t;
        });
        closeAfter.add(() -> sampler.shutdownNow());
        AtomicReference<String> last = new AtomicReference<>("");
        long t0 = System.nanoTime();
        sampler.scheduleAtFixedRate(() -> {
            String now = waiterState(waiter);
            if (!now.equals(last.getAndSet(now))) {
                transitions.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) + " ms: " + now);
            }
        }, 0, 1, TimeUnit.MILLISECONDS);
        return transitions;
    }

    // ---------------------------------------------------------------------------------------------
    // watchers

    @Test
    void reconnectsWhileHeldDoNotPileUpWatchersOnTheHeldNode() throws Exception {
        watchersAfterReconnects(null, "watchers-plain");
    }

    @Test
    void reconnectsWhileHeldDoNotPileUpWatchersOnTheHeldNodeWithNamespace() throws Exception {
        watchersAfterReconnects("dp-watch", "watchers-ns");
    }

    private void watchersAfterReconnects(String ns, String name) throws Exception {
        Proxied a = proxied(ns);
        CuratorFramework op = operator();
        DistributedLock lock = DistributedLock.of(a.zk(), name);
        Events ev = events(lock);
        String parent = full(ns, "/zkr/locks/" + name);
        LockHandle held = lock.tryAcquire(WAIT).orElseThrow();
        String node = parent + "/" + nodeOf(op, parent, held.token());
        for (int i = 1; i <= 3; i++) {
            int round = i;
            a.proxy().cut();
            await("resumed after cut " + round).atMost(WAIT).until(() -> ev.resumed.size() == round);
        }
        // let the re-armed watch requests be answered
        await().atMost(Duration.ofSeconds(2)).until(() -> !ClientWatchers.under(a.zk(), node).isEmpty());
        await().pollDelay(Duration.ofMillis(200)).atMost(Duration.ofSeconds(1)).until(() -> true);
        Map<String, Integer> watchers = ClientWatchers.under(a.zk(), node);
        int total = watchers.values().stream().mapToInt(Integer::intValue).sum();
        assertThat(total).as("watchers on the held node after 3 reconnects: %s", watchers).isLessThanOrEqualTo(2);

        op.delete().forPath(node);
        await().atMost(Duration.ofSeconds(5)).until(() -> !held.isValid());
        held.close();
    }

    // ---------------------------------------------------------------------------------------------
    // wrapped clients

    @Test
    void wrappedCuratorClientsStillWork() throws Exception {
        CuratorFramework op = operator();
        // a user's own Curator: ACLs unknown, everything through Curator
        CuratorFramework own = CuratorFrameworkFactory.builder().connectString(server.getConnectString())
                .namespace("dp-wrap").sessionTimeoutMs((int) SESSION.toMillis()).connectionTimeoutMs((int) SESSION.toMillis())
                .retryPolicy(new RetryNTimes(20, 100)).build();
        closeAfter.add(own);
        own.start();
        assertThat(own.blockUntilConnected(10, TimeUnit.SECONDS)).isTrue();
        ZkRecipes wrapped = ZkRecipes.wrap(own);
        closeAfter.add(wrapped);
        checkLockWorks(wrapped, op, full("dp-wrap", "/zkr/locks/w"), "w");
        assertThat(op.checkExists().forPath("/zkr/locks/w")).isNull();

        // ZkRecipes.wrap of a ZkRecipes-built client's Curator: its ACLs are known, the direct path
        ZkRecipes built = client(null);
        ZkRecipes again = ZkRecipes.wrap(built.curator());
        closeAfter.add(again);
        checkLockWorks(again, op, "/zkr/locks/w2", "w2");
    }

    private static void checkLockWorks(ZkRecipes zk, CuratorFramework op, String parent, String name) throws Exception {
        DistributedLock lock = DistributedLock.of(zk, name);
        Events ev = events(lock);
        warm(lock);
        LockHandle held = lock.tryAcquire(WAIT).orElseThrow();
        String node = nodeOf(op, parent, held.token());
        assertThat(children(op, parent)).containsExactly(node);
        assertThat(lock.holders()).extracting(LockHolder::token).containsExactly(held.token());
        op.delete().forPath(parent + "/" + node);
        await("hold of " + parent + " ends on delete").atMost(Duration.ofSeconds(5)).until(() -> !held.isValid());
        await().atMost(Duration.ofSeconds(5)).until(() -> ev.lost.contains(held.token()));
        held.close();
        LockHandle again = lock.tryAcquire(WAIT).orElseThrow();
        assertThat(again.token()).isGreaterThan(held.token());
        again.close();
        assertThat(children(op, parent)).isEmpty();
    }

    // ---------------------------------------------------------------------------------------------
    // exclusion and fencing under faults mid-acquire

    private static byte[] bytes(long token) {
        return ByteBuffer.allocate(8).putLong(token).array();
    }

    @Test
    void twoClientsStayExclusiveWithRisingTokensWhenOneIsBlackholedMidAcquire() throws Exception {
        String ns = "dp-mx";
        String name = "mx";
        Proxied a = proxied(ns);
        Proxied b = proxied(ns);
        a.zk().curator().create().creatingParentsIfNeeded().forPath("/resource", bytes(0));
        TokenHistory history = new TokenHistory();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<LockHandle> nowA = new AtomicReference<>();
        AtomicReference<LockHandle> nowB = new AtomicReference<>();
        AtomicInteger writesA = new AtomicInteger();
        AtomicInteger writesB = new AtomicInteger();
        List<Thread> workers = List.of(
                worker(a.zk(), name, history, nowA, writesA, stop, "A"),
                worker(b.zk(), name, history, nowB, writesB, stop, "B"));
        OverlapChecker overlaps = new OverlapChecker(Map.of(
                "A", () -> valid(nowA), "B", () -> valid(nowB)));
        try {
            workers.forEach(Thread::start);
            await().atMost(WAIT).until(() -> writesA.get() > 0 && writesB.get() > 0);

            // 1: A's create reaches the server during a blackhole shorter than the session
            blackholeMidCreate(a, Duration.ofMillis(1000));
            progress(writesA, writesB);
            // 2: longer than the session: A's session expires with its node
            blackholeMidCreate(a, SESSION.plusSeconds(1));
            progress(writesA, writesB);
            // 3: lost replies of A's create, then of A's delete
            a.proxy().loseNextReply(Opcodes.CREATES).await(WAIT);
            progress(writesA, writesB);
            a.proxy().loseNextReply(Opcodes.DELETE).await(WAIT);
            progress(writesA, writesB);
        } finally {
            stop.set(true);
            for (Thread w : workers) {
                w.interrupt();
                w.join(5000);
            }
            overlaps.close();
        }
        System.out.println("LockDirectPathReviewIT: " + history.size() + " writes under " + history.distinctTokens().size()
                + " holds (A " + writesA.get() + ", B " + writesB.get() + "), " + overlaps.samples() + " samples");
        assertThat(history.violations()).isEmpty();
        assertThat(history.distinctTokens()).isSorted().doesNotHaveDuplicates();
        assertThat(overlaps.overlaps()).as("two valid holds at once").isEmpty();
    }

    private static boolean valid(AtomicReference<LockHandle> now) {
        LockHandle h = now.get();
        return h != null && h.isValid();
    }

    /** Both clients land more writes within the wait: the lock is live after the fault. */
    private static void progress(AtomicInteger writesA, AtomicInteger writesB) {
        int a0 = writesA.get();
        int b0 = writesB.get();
        await("both clients write again after the fault").atMost(Duration.ofSeconds(15))
                .until(() -> writesA.get() > a0 && writesB.get() > b0);
    }

    private static void blackholeMidCreate(Proxied victim, Duration silence) {
        victim.proxy().stallRequestsFrom(Opcodes.CREATES);
        try {
            assertThat(victim.proxy().awaitStalledRequest(WAIT)).isTrue();
            victim.proxy().blackhole();
        } finally {
            victim.proxy().releaseRequests();  // the create goes to the server; its reply is blackholed
        }
        await().pollDelay(silence).atMost(silence.plusSeconds(2)).until(() -> true);
        victim.proxy().heal();
    }

    private static Thread worker(ZkRecipes zk, String name, TokenHistory history, AtomicReference<LockHandle> now,
            AtomicInteger writes, AtomicBoolean stop, String label) {
        Thread t = new Thread(() -> {
            DistributedLock lock = DistributedLock.of(zk, name);
            CuratorFramework curator = zk.curator();
            while (!stop.get()) {
                Thread.interrupted();
                try {
                    Optional<LockHandle> got = lock.tryAcquire(Duration.ofMillis(500));
                    if (got.isEmpty()) {
                        continue;
                    }
                    LockHandle h = got.get();
                    now.set(h);
                    try {
                        for (int i = 0; i < 2; i++) {
                            List<CuratorTransactionResult> results = h.commit(
                                    curator.transactionOp().setData().forPath("/resource", bytes(h.token().value())));
                            history.landed(results.get(results.size() - 1).getResultStat().getVersion(), h.token().value());
                            writes.incrementAndGet();
                        }
                    } finally {
                        now.set(null);
                        h.close();
                    }
                } catch (Exception e) {
                    // a fault: try again unless stopping
                }
            }
        }, "review-worker-" + label);
        t.setDaemon(true);
        return t;
    }
}
