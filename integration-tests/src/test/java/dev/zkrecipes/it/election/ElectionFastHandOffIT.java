package dev.zkrecipes.it.election;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.election.LeaderElector;
import dev.zkrecipes.election.Leadership;
import dev.zkrecipes.election.Participant;
import dev.zkrecipes.it.election.RecordingListener.Event;
import dev.zkrecipes.testing.Clients;
import dev.zkrecipes.testing.EmbeddedZk;
import dev.zkrecipes.testing.LoopbackProxy.Opcodes;
import dev.zkrecipes.testing.OverlapChecker;
import dev.zkrecipes.testing.TokenHistory;
import dev.zkrecipes.testing.ZkServers;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The hand-off without a read (866c5e9): the next in line leads on the leader's NodeDeleted event
 * alone, trusting that its own node's watch, sent first, would have told it first had its node gone;
 * participants 2..8 places back watch the head. Tries to break it with operator deletes and data
 * changes, session expiry, blackholes and cuts with a reconnect on the same session, churn, and
 * followers closing while a head change makes them read the line.
 *
 * <p>Invariants: never two valid leaders at once (OverlapChecker); a term only on a node that exists
 * and belongs to the participant's current session; fenced writes never go down; everyone eventually
 * leads or waits; a closed participant leaves no watcher on its client.
 */
class ElectionFastHandOffIT {

    @RegisterExtension
    static final EmbeddedZk zk = EmbeddedZk.server();

    private static final Duration SESSION = Duration.ofSeconds(4);
    private static final Duration WAIT = Duration.ofSeconds(10);

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private String election;
    private ZkRecipes operator;

    @BeforeEach
    void setUp(TestInfo info) {
        String method = info.getTestMethod().orElseThrow().getName();
        String variant = info.getDisplayName().startsWith("[") ? "/" + info.getDisplayName().replaceAll("[^A-Za-z0-9_]", "") : "";
        election = "fasthandoff/" + method + variant;
        operator = Clients.connect(zk.connectString(), SESSION);
        toClose.add(operator);
    }

    @AfterEach
    void closeAll() {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            ZkServers.closeQuietly(toClose.get(i));
        }
        toClose.clear();
    }

    // ---- helpers ----

    private String electionPath() {
        return ZkRecipes.ROOT + "/elections/" + election;
    }

    private ProxiedParticipant participant(String id) {
        ProxiedParticipant p = new ProxiedParticipant(zk.connectString(), zk.port(), election, id, SESSION);
        toClose.add(p);
        return p;
    }

    /** Starts participants one after the other, so that the line is in the order given. */
    private List<ProxiedParticipant> line(String... ids) throws Exception {
        List<ProxiedParticipant> line = new ArrayList<>();
        List<String> expected = new ArrayList<>();
        for (String id : ids) {
            ProxiedParticipant p = participant(id);
            line.add(p);
            expected.add(id);
            await().atMost(WAIT).until(() -> ids(p.elector).equals(expected));
        }
        line.get(0).elector.awaitLeadership(WAIT).orElseThrow();
        return line;
    }

    private static List<String> ids(LeaderElector e) {
        return e.participants().stream().map(Participant::id).toList();
    }

    /** The token (czxid) of the node {@code id} holds now. */
    private static long tokenOf(LeaderElector reader, String id) {
        return reader.participants().stream().filter(p -> p.id().equals(id)).findFirst().orElseThrow().token().value();
    }

    /** The path of the election node whose czxid is {@code token}. */
    private String nodeOf(long token) throws Exception {
        CuratorFramework raw = operator.curator();
        for (String child : raw.getChildren().forPath(electionPath())) {
            String path = electionPath() + "/" + child;
            Stat stat = raw.checkExists().forPath(path);
            if (stat != null && stat.getCzxid() == token) {
                return path;
            }
        }
        throw new AssertionError("no node with czxid " + token + " under " + electionPath());
    }

    private static long sessionId(ZkRecipes client) throws Exception {
        return client.curator().getZookeeperClient().getZooKeeper().getSessionId();
    }

    /** Terms {@code listener} was elected to on the node with czxid {@code token}. */
    private static List<Event> electedOn(RecordingListener listener, long token) {
        return listener.events().stream().filter(e -> e.isElected() && e.token() == token).toList();
    }

    /**
     * The paths on which {@code client} holds a data, exist or child watcher, under the election.
     * Read from ZooKeeper's own (protected, test-only) listing, without taking anything away.
     */
    @SuppressWarnings("unchecked")
    private List<String> watchedPaths(ZkRecipes client) throws Exception {
        ZooKeeper z = client.curator().getZookeeperClient().getZooKeeper();
        List<String> all = new ArrayList<>();
        for (String name : List.of("getDataWatches", "getExistWatches", "getChildWatches")) {
            Method m = ZooKeeper.class.getDeclaredMethod(name);
            m.setAccessible(true);
            for (String path : (List<String>) m.invoke(z)) {
                if (path.startsWith(electionPath())) {
                    all.add(name.substring(3, name.length() - 7).toLowerCase() + ":" + path);
                }
            }
        }
        return all;
    }

    /**
     * The leader's term stands on a node that exists and whose ephemeral owner is the leader's
     * current session; nobody else among {@code others} leads.
     */
    private void assertSoleLeaderOnItsLiveNode(ProxiedParticipant leader, ProxiedParticipant... others)
            throws Exception {
        Leadership term = leader.elector.awaitLeadership(WAIT).orElseThrow(
                () -> new AssertionError(leader + " does not lead within " + WAIT));
        String path = nodeOf(term.token().value());
        Stat stat = operator.curator().checkExists().forPath(path);
        assertThat(stat).as("node of %s's term", leader).isNotNull();
        assertThat(stat.getEphemeralOwner()).as("owner of %s's node", leader).isEqualTo(sessionId(leader.zk));
        for (ProxiedParticipant o : others) {
            assertThat(o.elector.isLeader()).as("%s leads besides %s", o, leader).isFalse();
        }
    }

    private static OverlapChecker checker(ProxiedParticipant... ps) {
        Map<String, BooleanSupplier> claims = new LinkedHashMap<>();
        for (ProxiedParticipant p : ps) {
            claims.put(p.id, p.elector::isLeader);
        }
        return new OverlapChecker(claims);
    }

    private static void pause(Duration d) {
        await().pollDelay(d).atMost(d.plusSeconds(5)).until(() -> true);
    }

    // ---- the checkers can fail ----

    @Test
    void negativeControlTheGhostTermChecksSeeATermOnADeletedNode() throws Exception {
        // A term on a node that no longer exists is what electedOn + a deleted path reports, and the
        // watch listing sees a watcher that is there: both checks are able to fail.
        List<ProxiedParticipant> line = line("a", "b");
        ProxiedParticipant a = line.get(0);
        ProxiedParticipant b = line.get(1);
        long aToken = tokenOf(a.elector, "a");
        String aNode = nodeOf(aToken);
        await().atMost(WAIT).until(() -> watchedPaths(b.zk).contains("data:" + aNode));
        operator.curator().delete().forPath(aNode);
        // a was elected on aToken, and that node is now gone: exactly the shape of the ghost check
        assertThat(electedOn(a.listener, aToken)).isNotEmpty();
        assertThat(operator.curator().checkExists().forPath(aNode)).isNull();
        try (OverlapChecker always = new OverlapChecker(Map.of("x", () -> true, "y", () -> true))) {
            await().atMost(WAIT).until(() -> !always.overlaps().isEmpty());
        }
    }

    // ---- 1. the next in line's node deleted, then the leader's ----

    enum LeaderLeaves { NODE_DELETED_AT_ONCE, NODE_DELETED_AFTER_50MS, CLOSES_AT_ONCE, CLOSES_AFTER_50MS }

    @ParameterizedTest
    @EnumSource(LeaderLeaves.class)
    void nextInLineWhoseNodeIsDeletedBeforeTheLeaderLeavesNeverLeadsOnIt(LeaderLeaves how) throws Exception {
        List<ProxiedParticipant> line = line("a", "b", "c");
        ProxiedParticipant a = line.get(0);
        ProxiedParticipant b = line.get(1);
        ProxiedParticipant c = line.get(2);
        long aToken = tokenOf(a.elector, "a");
        long bToken = tokenOf(a.elector, "b");
        String aNode = nodeOf(aToken);
        String bNode = nodeOf(bToken);
        // b is next and set up for the fast path: its own node and the head watched
        await().atMost(WAIT).until(() -> watchedPaths(b.zk).containsAll(List.of("data:" + aNode, "data:" + bNode)));

        boolean operatorDeletesLeader = how == LeaderLeaves.NODE_DELETED_AT_ONCE || how == LeaderLeaves.NODE_DELETED_AFTER_50MS;
        // A leader whose node an operator deletes learns of it from the same delete that elects c,
        // on another client: nothing orders the two notifications, so a and c may both claim for a
        // moment (CI saw one 2 ms sample). That overlap is the operator's; the one checked there is
        // b's. A leader that closes ends its term before it sends its delete: all three are checked.
        OverlapChecker checker = operatorDeletesLeader ? checker(b, c) : checker(a, b, c);
        try {
            operator.curator().delete().forPath(bNode);
            if (how == LeaderLeaves.NODE_DELETED_AFTER_50MS || how == LeaderLeaves.CLOSES_AFTER_50MS) {
                pause(Duration.ofMillis(50));
            }
            if (operatorDeletesLeader) {
                operator.curator().delete().forPath(aNode);
            } else {
                a.elector.close();
            }
            // c, behind b, leads; b rejoins behind it on the same session
            assertSoleLeaderOnItsLiveNode(c, a, b);
            await().atMost(WAIT).until(() -> ids(c.elector).contains("b") && tokenOf(c.elector, "b") != bToken);
            await().during(Duration.ofMillis(300)).atMost(WAIT).until(() -> c.elector.isLeader() && !b.elector.isLeader());
        } finally {
            checker.close();
        }
        assertThat(electedOn(b.listener, bToken)).as("terms granted to b on its deleted node " + bNode).isEmpty();
        assertThat(checker.overlaps()).as("moments with two valid leaders").isEmpty();
    }

    // ---- 1b. the same, with an operator's data change on the next in line's node first ----

    enum OperatorScript { MULTI, PIPELINED }

    /**
     * An operator changes the next in line's node, deletes it, and deletes the leader's (one multi,
     * or three asynchronous calls in a row). The data change fires b's own-node watch, which b
     * re-arms in the background; until that read comes back b's own node is unwatched, and the
     * leader's NodeDeleted that follows takes the fast path: b leads on a node that is gone.
     */
    @ParameterizedTest
    @EnumSource(OperatorScript.class)
    void nextInLineWhoseNodeIsChangedThenDeletedWithTheLeadersNeverLeadsOnIt(OperatorScript script) throws Exception {
        List<ProxiedParticipant> line = line("a", "b", "c");
        ProxiedParticipant a = line.get(0);
        ProxiedParticipant b = line.get(1);
        ProxiedParticipant c = line.get(2);
        long bToken = tokenOf(a.elector, "b");
        String aNode = nodeOf(tokenOf(a.elector, "a"));
        String bNode = nodeOf(bToken);
        await().atMost(WAIT).until(() -> watchedPaths(b.zk).containsAll(List.of("data:" + aNode, "data:" + bNode)));
        byte[] bData = operator.curator().getData().forPath(bNode);

        // the operator deletes the leader's node too: a and c may both claim for a moment (see
        // nextInLineWhoseNodeIsDeletedBeforeTheLeaderLeavesNeverLeadsOnIt); b's claims are checked
        OverlapChecker checker = checker(b, c);
        try {
            CuratorFramework raw = operator.curator();
            if (script == OperatorScript.MULTI) {
                raw.transaction().forOperations(raw.transactionOp().setData().forPath(bNode, bData),
                        raw.transactionOp().delete().forPath(bNode), raw.transactionOp().delete().forPath(aNode));
            } else {
                CountDownLatch done = new CountDownLatch(3);
                raw.setData().inBackground((cl, ev) -> done.countDown()).forPath(bNode, bData);
                raw.delete().inBackground((cl, ev) -> done.countDown()).forPath(bNode);
                raw.delete().inBackground((cl, ev) -> done.countDown()).forPath(aNode);
                assertThat(done.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
            }
            assertSoleLeaderOnItsLiveNode(c, a, b);
            await().atMost(WAIT).until(() -> ids(c.elector).contains("b") && tokenOf(c.elector, "b") != bToken);
        } finally {
            checker.close();
        }
        assertThat(electedOn(b.listener, bToken))
                .as("terms granted to b on its node %s, deleted before the leader's (b's events: %s)", bNode,
                        b.listener.events())
                .isEmpty();
        assertThat(checker.overlaps()).as("moments with two valid leaders").isEmpty();
    }

    /**
     * The same script, while b's requests are slow (held in its proxy from its next read on): its
     * re-arming read is in flight, so nothing tells b its node is gone, and b leads on it while c,
     * rightly, leads too -- until b's connection times out.
     */
    @Test
    void nextInLineWithSlowRequestsWhoseNodeIsChangedThenDeletedDoesNotLeadBesideTheRealLeader() throws Exception {
        List<ProxiedParticipant> line = line("a", "b", "c");
        ProxiedParticipant a = line.get(0);
        ProxiedParticipant b = line.get(1);
        ProxiedParticipant c = line.get(2);
        long bToken = tokenOf(a.elector, "b");
        String aNode = nodeOf(tokenOf(a.elector, "a"));
        String bNode = nodeOf(bToken);
        await().atMost(WAIT).until(() -> watchedPaths(b.zk).containsAll(List.of("data:" + aNode, "data:" + bNode)));
        byte[] bData = operator.curator().getData().forPath(bNode);

        // the operator deletes the leader's node too: a and c may both claim for a moment (see
        // nextInLineWhoseNodeIsDeletedBeforeTheLeaderLeavesNeverLeadsOnIt); b's claims are checked
        OverlapChecker checker = checker(b, c);
        try {
            b.proxy.stallRequestsFrom(Opcodes.GET_DATA);
            CuratorFramework raw = operator.curator();
            raw.transaction().forOperations(raw.transactionOp().setData().forPath(bNode, bData),
                    raw.transactionOp().delete().forPath(bNode), raw.transactionOp().delete().forPath(aNode));
            c.elector.awaitLeadership(WAIT).orElseThrow();
            // a while the stall lasts (well below b's read timeout of 2/3 of the session)
            await().during(Duration.ofMillis(500)).atMost(WAIT).until(() -> c.elector.isLeader());
        } finally {
            b.proxy.releaseRequests();
            checker.close();
        }
        assertSoleLeaderOnItsLiveNode(c, a, b);
        assertThat(checker.overlaps()).as("moments with two valid leaders (b's events: %s)", b.listener.events())
                .isEmpty();
        assertThat(electedOn(b.listener, bToken)).as("terms granted to b on its deleted node").isEmpty();
    }

    // ---- 2. the next in line's session expires as the leader closes ----

    enum Order { EXPIRE_THEN_CLOSE, CLOSE_THEN_EXPIRE, TOGETHER }

    /**
     * b, next, has its session closed on the server (the dangerous order) about when a closes. Expired
     * first, b must never lead on its dead node. Expired after it took over, b legitimately led and
     * hears of the loss only when the server drops its connection: the OverlapChecker is then not the
     * right judge (ZooKeeper tells the victim late, whatever the recipe does; measured here about
     * 100 ms, see the report), the guard is: b's term can no longer commit, c's token is newer.
     */
    @ParameterizedTest
    @EnumSource(Order.class)
    void nextInLineWhoseSessionExpiresAsTheLeaderClosesNeverLeadsOnTheDeadSession(Order order) throws Exception {
        List<ProxiedParticipant> line = line("a", "b", "c");
        ProxiedParticipant a = line.get(0);
        ProxiedParticipant b = line.get(1);
        ProxiedParticipant c = line.get(2);
        long bToken = tokenOf(a.elector, "b");
        String aNode = nodeOf(tokenOf(a.elector, "a"));
        String bNode = nodeOf(bToken);
        long bSession = sessionId(b.zk);
        await().atMost(WAIT).until(() -> watchedPaths(b.zk).containsAll(List.of("data:" + aNode, "data:" + bNode)));

        Leadership bTerm = null;
        OverlapChecker checker = checker(a, b, c);
        try {
            switch (order) {
                case EXPIRE_THEN_CLOSE -> {
                    b.expireSession();
                    a.elector.close();
                }
                case CLOSE_THEN_EXPIRE -> {
                    a.elector.close();
                    bTerm = b.elector.awaitLeadership(WAIT).orElseThrow();
                    b.expireSession();
                }
                default -> {
                    CountDownLatch go = new CountDownLatch(1);
                    CompletableFuture<Void> expire = CompletableFuture.runAsync(() -> {
                        awaitQuietly(go);
                        b.expireSession();
                    });
                    CompletableFuture<Void> close = CompletableFuture.runAsync(() -> {
                        awaitQuietly(go);
                        a.elector.close();
                    });
                    go.countDown();
                    CompletableFuture.allOf(expire, close).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                }
            }
            // b's node went with its session: c leads; b comes back on a new session, behind c
            await().atMost(WAIT).until(() -> sessionId(b.zk) != bSession && ids(c.elector).contains("b")
                    && tokenOf(c.elector, "b") != bToken);
            assertSoleLeaderOnItsLiveNode(c, a, b);
            await().during(Duration.ofMillis(300)).atMost(WAIT).until(() -> c.elector.isLeader() && !b.elector.isLeader());
        } finally {
            checker.close();
        }
        // every term b had on its old node has ended for good
        electedOn(b.listener, bToken).forEach(e -> assertThat(b.listener.events()).anyMatch(
                r -> r.reason() == dev.zkrecipes.election.RevocationReason.SESSION_EXPIRED && r.token() == bToken
                        && r.nanos() >= e.nanos()));
        assertThat(c.elector.awaitLeadership(WAIT).orElseThrow().token().value()).isGreaterThan(bToken);
        if (bTerm != null) {
            Leadership stale = bTerm;
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> stale.commit(b.zk.ops().check(electionPath())))
                    .isInstanceOf(dev.zkrecipes.core.LeadershipLostException.class);
        }
        if (order == Order.EXPIRE_THEN_CLOSE) {
            assertThat(electedOn(b.listener, bToken)).as("terms granted to b on its expired session's node").isEmpty();
            assertThat(checker.overlaps()).as("moments with two valid leaders").isEmpty();
        } else {
            System.out.println("ElectionFastHandOffIT " + order + ": samples with b (told late of its expiry) and c both"
                    + " leading: " + checker.overlaps().size() + " (capped at 50)");
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- 3. the next in line blackholed or cut off while the leader leaves ----

    /** b hears nothing while a leaves; healed before its read timeout, it hears the delete late and leads. */
    @Test
    void nextInLineBlackholedWhileTheLeaderLeavesLeadsOnceHealedOnTheSameSession() throws Exception {
        List<ProxiedParticipant> line = line("a", "b", "c");
        ProxiedParticipant a = line.get(0);
        ProxiedParticipant b = line.get(1);
        ProxiedParticipant c = line.get(2);
        long bToken = tokenOf(a.elector, "b");
        long bSession = sessionId(b.zk);
        String aNode = nodeOf(tokenOf(a.elector, "a"));
        String bNode = nodeOf(bToken);
        await().atMost(WAIT).until(() -> watchedPaths(b.zk).containsAll(List.of("data:" + aNode, "data:" + bNode)));

        OverlapChecker checker = checker(a, b, c);
        try {
            b.proxy.blackhole();
            a.elector.close();
            // c reads the line again on the head's delete, and waits behind b: nobody leads meanwhile
            await().during(Duration.ofMillis(500)).atMost(WAIT).until(() -> !b.elector.isLeader() && !c.elector.isLeader());
            b.proxy.heal();
            Leadership term = b.elector.awaitLeadership(WAIT).orElseThrow();
            assertThat(term.token().value()).isEqualTo(bToken);
            assertThat(sessionId(b.zk)).isEqualTo(bSession);
            assertSoleLeaderOnItsLiveNode(b, a, c);
        } finally {
            b.proxy.heal();
            checker.close();
        }
        assertThat(checker.overlaps()).as("moments with two valid leaders").isEmpty();
    }

    /**
     * b is cut off (its proxy blackholed and its connection reset: SUSPENDED at once); meanwhile its
     * node is deleted and the leader closes, and c takes over. b reconnects on the same session: its
     * SetWatches makes the server send NodeDeleted for both its own node and the head, in the order of
     * the client's watch table (a HashMap, so either order, depending on the random protected names).
     * The setups are repeated until the head comes first in that table; the SetWatches is held in the
     * proxy a moment (a slow request) so that the reconnect is known before its events arrive.
     * The head's delete, heard first, must not make b lead on its own deleted node.
     */
    @Test
    void nextInLineCutOffWhileItsNodeAndTheLeaderGoNeverLeadsOnItsNodeAfterReconnecting() throws Exception {
        String base = election;
        int headFirst = 0;
        for (int setup = 0; setup < 12 && headFirst < 2; setup++) {
            election = base + "/setup" + setup;
            List<ProxiedParticipant> line = line("a", "b", "c");
            ProxiedParticipant a = line.get(0);
            ProxiedParticipant b = line.get(1);
            ProxiedParticipant c = line.get(2);
            long bToken = tokenOf(a.elector, "b");
            long bSession = sessionId(b.zk);
            String aNode = nodeOf(tokenOf(a.elector, "a"));
            String bNode = nodeOf(bToken);
            await().atMost(WAIT).until(() -> watchedPaths(b.zk).containsAll(List.of("data:" + aNode, "data:" + bNode)));
            List<String> order = watchedPaths(b.zk);
            System.out.println("ElectionFastHandOffIT cut-off setup " + setup + ": b's SetWatches names "
                    + (order.indexOf("data:" + aNode) < order.indexOf("data:" + bNode) ? "the head" : "its own node") + " first");
            if (order.indexOf("data:" + aNode) > order.indexOf("data:" + bNode)) {
                // b's own node first in its SetWatches: its delete is heard first, the safe order
                closeAll();
                operator = Clients.connect(zk.connectString(), SESSION);
                toClose.add(operator);
                continue;
            }
            headFirst++;
            OverlapChecker checker = checker(a, b, c);
            try {
                b.proxy.blackhole();
                b.proxy.cut();
                await().atMost(WAIT).until(() -> !b.zk.curator().getZookeeperClient().isConnected());
                operator.curator().delete().forPath(bNode);
                a.elector.close();
                c.elector.awaitLeadership(WAIT).orElseThrow();
                b.proxy.stallRequestsFrom(Opcodes.SET_WATCHES, Opcodes.SET_WATCHES2);
                b.proxy.heal();
                assertThat(b.proxy.awaitStalledRequest(WAIT)).as("b's SetWatches").isTrue();
                await().atMost(WAIT).until(() -> b.zk.curator().getZookeeperClient().isConnected());
                pause(Duration.ofMillis(200)); // Curator's RECONNECTED reaches the participant
                b.proxy.releaseRequests();
                assertThat(sessionId(b.zk)).as("b reconnected on its session").isEqualTo(bSession);
                await().atMost(WAIT).until(() -> ids(c.elector).contains("b") && tokenOf(c.elector, "b") != bToken);
                assertSoleLeaderOnItsLiveNode(c, a, b);
            } finally {
                b.proxy.releaseRequests();
                b.proxy.heal();
                checker.close();
            }
            assertThat(electedOn(b.listener, bToken))
                    .as("setup %d: terms granted to b on its node deleted while it was cut off (events %s)", setup,
                            b.listener.events())
                    .isEmpty();
            assertThat(checker.overlaps()).as("setup %d: moments with two valid leaders", setup).isEmpty();
            closeAll();
            operator = Clients.connect(zk.connectString(), SESSION);
            toClose.add(operator);
        }
        assertThat(headFirst).as("setups whose SetWatches named the head first").isPositive();
    }

    /** b blackholed past its session while the leader leaves: c leads, b comes back on a new session behind. */
    @Test
    void nextInLineBlackholedPastItsSessionWhileTheLeaderLeavesRejoinsBehindTheNewLeader() throws Exception {
        List<ProxiedParticipant> line = line("a", "b", "c");
        ProxiedParticipant a = line.get(0);
        ProxiedParticipant b = line.get(1);
        ProxiedParticipant c = line.get(2);
        long bToken = tokenOf(a.elector, "b");
        long bSession = sessionId(b.zk);
        String aNode = nodeOf(tokenOf(a.elector, "a"));
        String bNode = nodeOf(bToken);
        await().atMost(WAIT).until(() -> watchedPaths(b.zk).containsAll(List.of("data:" + aNode, "data:" + bNode)));

        OverlapChecker checker = checker(a, b, c);
        try {
            b.proxy.blackhole();
            a.elector.close();
            // the server expires b's session after its timeout; then c, next, leads
            c.elector.awaitLeadership(SESSION.plus(WAIT)).orElseThrow();
            b.proxy.heal();
            await().atMost(WAIT).until(() -> sessionId(b.zk) != bSession && ids(c.elector).contains("b")
                    && tokenOf(c.elector, "b") != bToken);
            assertSoleLeaderOnItsLiveNode(c, a, b);
            await().during(Duration.ofMillis(300)).atMost(WAIT).until(() -> c.elector.isLeader() && !b.elector.isLeader());
        } finally {
            b.proxy.heal();
            checker.close();
        }
        assertThat(electedOn(b.listener, bToken)).as("terms granted to b on its expired node").isEmpty();
        assertThat(checker.overlaps()).as("moments with two valid leaders").isEmpty();
    }

    // ---- 4. churn, with data changes on the head and the next in line ----

    @Test
    void participantsJoiningAndLeavingWithDataChangesKeepOneLeaderAndLeaveNoWatchers() throws Exception {
        long seed = Long.getLong("zkr.seed", System.nanoTime());
        System.out.println("ElectionFastHandOffIT churn seed=" + seed + " (rerun with -Dzkr.seed=" + seed + ")");
        Random random = new Random(seed);
        List<ZkRecipes> clients = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ZkRecipes client = Clients.connect(zk.connectString(), SESSION);
            clients.add(client);
            toClose.add(client);
        }
        String resource = "/resource/" + election;
        operator.curator().create().creatingParentsIfNeeded().forPath(resource, bytes(0));
        TokenHistory history = new TokenHistory();
        RecordingListener listener = new RecordingListener();
        int slots = 5;
        List<AtomicReference<LeaderElector>> slot = new ArrayList<>();
        Map<String, BooleanSupplier> claims = new LinkedHashMap<>();
        AtomicInteger nextId = new AtomicInteger();
        for (int i = 0; i < slots; i++) {
            AtomicReference<LeaderElector> ref = new AtomicReference<>(start(clients.get(i % 3), "p" + nextId.getAndIncrement(), listener));
            slot.add(ref);
            claims.put("slot" + i, () -> ref.get().isLeader());
        }
        ScheduledExecutorService writer = Executors.newSingleThreadScheduledExecutor();
        writer.scheduleWithFixedDelay(() -> {
            for (AtomicReference<LeaderElector> ref : slot) {
                LeaderElector e = ref.get();
                try {
                    Optional<Leadership> t = e.awaitLeadership(Duration.ZERO);
                    if (t.isPresent()) {
                        List<CuratorTransactionResult> results = t.get().commit(operator.curator().transactionOp()
                                .setData().forPath(resource, bytes(t.get().token().value())));
                        history.landed(results.get(results.size() - 1).getResultStat().getVersion(), t.get().token().value());
                    }
                } catch (Exception | AssertionError ignored) {
                    // a term that ended, a closed elector: the guard refused it, nothing landed
                }
            }
        }, 0, 3, TimeUnit.MILLISECONDS);
        OverlapChecker checker = new OverlapChecker(claims);
        List<LeaderElector> closed = new ArrayList<>();
        try {
            for (int round = 0; round < 30; round++) {
                int writesBefore = history.size();
                List<String> children = childrenOrEmpty();
                List<String> sorted = children.stream()
                        .sorted(java.util.Comparator.comparing(n -> n.substring(n.length() - 10))).toList();
                if (round % 4 == 1 && !sorted.isEmpty()) {
                    touch(electionPath() + "/" + sorted.get(0)); // the head: HeadWatch and Wakeup fire
                }
                if (round % 5 == 2 && sorted.size() > 1) {
                    touch(electionPath() + "/" + sorted.get(1)); // the next in line's own watch fires
                }
                int victim = random.nextInt(slots);
                LeaderElector leaving = slot.get(victim).get();
                LeaderElector joining = start(clients.get(random.nextInt(3)), "p" + nextId.getAndIncrement(), listener);
                slot.get(victim).set(joining);
                leaving.close();
                closed.add(leaving);
                await().atMost(WAIT).until(() -> slot.stream().anyMatch(r -> r.get().isLeader()));
                await().atMost(WAIT).until(() -> history.size() > writesBefore);
            }
            // at rest: five in line, one leader on its live node, every other one waiting
            await().atMost(WAIT).until(() -> operator.curator().getChildren().forPath(electionPath()).size() == slots
                    && slot.stream().filter(r -> r.get().isLeader()).count() == 1);
        } finally {
            checker.close();
            writer.shutdownNow();
            writer.awaitTermination(5, TimeUnit.SECONDS);
        }
        assertThat(checker.overlaps()).as("moments with two valid leaders").isEmpty();
        assertThat(history.violations()).as("fenced writes that went down").isEmpty();
        assertThat(history.distinctTokens()).isSorted().doesNotHaveDuplicates();
        slot.forEach(r -> r.get().close());
        await().atMost(WAIT).until(() -> operator.curator().getChildren().forPath(electionPath()).isEmpty());
        for (int i = 0; i < clients.size(); i++) {
            ZkRecipes client = clients.get(i);
            int n = i;
            await().atMost(Duration.ofSeconds(3)).untilAsserted(() -> assertThat(watchedPaths(client))
                    .as("watchers left on client %d after every participant closed", n).isEmpty());
        }
    }

    private List<String> childrenOrEmpty() throws Exception {
        try {
            return operator.curator().getChildren().forPath(electionPath());
        } catch (org.apache.zookeeper.KeeperException.NoNodeException none) {
            return List.of();
        }
    }

    private LeaderElector start(ZkRecipes client, String id, RecordingListener listener) {
        LeaderElector e = LeaderElector.builder(client, election).participantId(id).listener(listener).build();
        e.start();
        return e;
    }

    private void touch(String path) throws Exception {
        try {
            byte[] data = operator.curator().getData().forPath(path);
            operator.curator().setData().forPath(path, data);
        } catch (org.apache.zookeeper.KeeperException.NoNodeException gone) {
            // it left meanwhile
        }
    }

    private static byte[] bytes(long token) {
        return ByteBuffer.allocate(8).putLong(token).array();
    }

    // ---- 5. a participant 2..8 places back closes ----

    @Test
    void participantBehindTheNextInLineLeavesNoWatcherWhenItCloses() throws Exception {
        List<ProxiedParticipant> line = line("a", "b", "c", "d");
        ProxiedParticipant a = line.get(0);
        ProxiedParticipant d = line.get(3);
        String aNode = nodeOf(tokenOf(a.elector, "a"));
        String cNode = nodeOf(tokenOf(a.elector, "c"));
        // control: d watches the head and the node ahead of it
        await().atMost(WAIT).untilAsserted(() -> assertThat(watchedPaths(d.zk))
                .containsExactlyInAnyOrder("data:" + aNode, "data:" + cNode));
        d.elector.close();
        await().atMost(Duration.ofSeconds(3)).untilAsserted(() -> assertThat(watchedPaths(d.zk))
                .as("watchers left by closed d").isEmpty());
    }

    /**
     * d, 3 places back, reads the line because the head changed (an operator's setData fires its
     * HeadWatch); d closes while that read is in flight (its requests are slow). close() takes back
     * the watchers it knows of and waits for the worker, whose evaluate then sets the head and
     * predecessor watches again, after the take-back.
     */
    @Test
    void participantBehindTheNextInLineClosingWhileItReadsTheLineLeavesNoWatcher() throws Exception {
        List<ProxiedParticipant> line = line("a", "b", "c", "d");
        ProxiedParticipant a = line.get(0);
        ProxiedParticipant d = line.get(3);
        String aNode = nodeOf(tokenOf(a.elector, "a"));
        String cNode = nodeOf(tokenOf(a.elector, "c"));
        await().atMost(WAIT).untilAsserted(() -> assertThat(watchedPaths(d.zk))
                .containsExactlyInAnyOrder("data:" + aNode, "data:" + cNode));

        d.proxy.stallRequestsFrom(Opcodes.GET_CHILDREN, Opcodes.GET_CHILDREN2);
        CompletableFuture<Void> closing;
        try {
            operator.curator().setData().forPath(aNode, operator.curator().getData().forPath(aNode));
            assertThat(d.proxy.awaitStalledRequest(WAIT)).as("d reads the line on the head's change").isTrue();
            closing = CompletableFuture.runAsync(d.elector::close);
            pause(Duration.ofMillis(300)); // close has sent its delete and its take-backs (held behind the read)
        } finally {
            d.proxy.releaseRequests();
        }
        closing.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        await().atMost(WAIT).until(() -> !ids(a.elector).contains("d"));
        await().pollDelay(Duration.ofMillis(300)).atMost(Duration.ofSeconds(3)).untilAsserted(() -> assertThat(watchedPaths(d.zk))
                .as("watchers left on d's client after d closed").isEmpty());
    }
}
