package dev.zkrecipes.it.election;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.zkrecipes.core.FencingToken;
import dev.zkrecipes.core.LeadershipLostException;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.election.LeaderElector;
import dev.zkrecipes.election.LeaderObserver;
import dev.zkrecipes.election.Leadership;
import dev.zkrecipes.election.Participant;
import dev.zkrecipes.election.RevocationReason;
import dev.zkrecipes.it.election.RecordingListener.Event;
import dev.zkrecipes.testing.Clients;
import dev.zkrecipes.testing.EmbeddedZk;
import dev.zkrecipes.testing.OverlapChecker;
import dev.zkrecipes.testing.LoopbackProxy;
import dev.zkrecipes.testing.ZkServers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.listen.ListenerManager;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The election under faults whose outcome the participant cannot see at once: an operator changing
 * or deleting a leader's node, foreign children in the election, a term that ends on the server
 * while the leader is cut off, closing and resigning into a blackhole, repeated connection cuts, and
 * start racing close. One real server; each participant on its own client and session.
 */
class ElectionAmbiguityIT {

    @RegisterExtension
    static final EmbeddedZk zk = EmbeddedZk.server();

    private static final Duration SESSION = Duration.ofSeconds(4);
    private static final Duration WAIT = Duration.ofSeconds(15);
    /** Final reasons: after one of these a term never comes back. */
    private static final Set<RevocationReason> FINAL = EnumSet.of(RevocationReason.RESIGNED, RevocationReason.CLOSED,
            RevocationReason.SESSION_EXPIRED, RevocationReason.NODE_DELETED);

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private String election;
    private ZkRecipes operator;

    @BeforeEach
    void setUp(TestInfo info) {
        String method = info.getTestMethod().orElseThrow().getName();
        // a parameterized test's display name ("[1] NODE_DELETED") keeps its cases apart
        String variant = info.getDisplayName().startsWith("[") ? "/" + info.getDisplayName().replaceAll("[^A-Za-z0-9_]", "") : "";
        election = "ambiguity/" + method + variant;
        operator = Clients.connect(zk.connectString(), SESSION);
        toClose.add(operator);
    }

    @AfterEach
    void closeAll() {
        // participants first, clients and proxies after them
        for (int i = toClose.size() - 1; i >= 0; i--) {
            ZkServers.closeQuietly(toClose.get(i));
        }
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

    private static ZkRecipes connect(String connectString, Duration session, Duration connectionTimeout) {
        return Clients.connect(connectString, session, connectionTimeout);
    }

    /** The path of the election node whose czxid is {@code token}: the node a term stands on. */
    private String nodeOf(FencingToken token) throws Exception {
        CuratorFramework raw = operator.curator();
        for (String child : raw.getChildren().forPath(electionPath())) {
            String path = electionPath() + "/" + child;
            Stat stat = raw.checkExists().forPath(path);
            if (stat != null && stat.getCzxid() == token.value()) {
                return path;
            }
        }
        throw new AssertionError("no node with czxid " + token + " under " + electionPath());
    }

    private List<String> ids(LeaderElector e) {
        return e.participants().stream().map(Participant::id).toList();
    }

    private static long sessionId(ZkRecipes client) throws Exception {
        return client.curator().getZookeeperClient().getZooKeeper().getSessionId();
    }

    /** The events of one term that end it for good. */
    private static List<Event> finalRevocations(RecordingListener listener, long token) {
        return listener.events().stream().filter(e -> e.token() == token && FINAL.contains(e.reason())).toList();
    }

    private static long millisSince(long startNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }

    // ---- the checker and its negative control ----

    @Test
    void twoLeaderCheckerReportsTwoParticipantsThatBothSayTheyLead() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        try (OverlapChecker checker = new OverlapChecker(Map.of(
                "always", () -> true,
                "every-other-time", () -> calls.incrementAndGet() % 2 == 0))) {
            await().atMost(WAIT).until(() -> !checker.overlaps().isEmpty());
            assertThat(checker.overlaps().get(0)).contains("always", "every-other-time");
        }
    }

    // ---- operator interference ----

    @Test
    void leaderWhoseNodeDataIsChangedThenDeletedStepsDown() throws Exception {
        ProxiedParticipant a = participant("a");
        Leadership term = a.elector.awaitLeadership(WAIT).orElseThrow();
        ProxiedParticipant b = participant("b");
        await().atMost(WAIT).until(() -> ids(b.elector).equals(List.of("a", "b")));
        String aNode = nodeOf(term.token());

        OverlapChecker checker = new OverlapChecker(Map.of("a", a.elector::isLeader, "b", b.elector::isLeader));
        try {
            // a data change is not an end: the term holds, nobody else is elected
            operator.curator().setData().forPath(aNode, "written by an operator".getBytes(UTF_8));
            await().during(Duration.ofMillis(500)).atMost(WAIT).until(() -> term.isValid() && a.elector.isLeader());
            assertThat(b.listener.electedCount()).isZero();

            // and the delete that follows must still be heard: the watch was re-armed after the change
            operator.curator().delete().forPath(aNode);

            Event revoked = a.listener.awaitEvent(RevocationReason.NODE_DELETED, WAIT);
            assertThat(revoked.token()).isEqualTo(term.token().value());
            assertThat(term.isValid()).isFalse();
            Leadership successor = b.elector.awaitLeadership(WAIT).orElseThrow();
            assertThat(successor.token()).isGreaterThan(term.token());
            // a rejoins at the back on the same session
            await().atMost(WAIT).until(() -> ids(b.elector).equals(List.of("b", "a")));
            await().during(Duration.ofMillis(300)).atMost(WAIT).until(() -> b.elector.isLeader() && !a.elector.isLeader());
        } finally {
            checker.close();
        }
        assertThat(checker.samples()).as("samples taken by the checker").isGreaterThan(100);
        assertThat(checker.overlaps()).as("moments with two valid leaders").isEmpty();
        assertThat(a.listener.events()).extracting(Event::toString)
                .containsExactly("elected@" + term.token(), "revoked:NODE_DELETED@" + term.token());
        assertThatThrownBy(() -> term.commit(a.zk.ops().check(electionPath())))
                .isInstanceOf(LeadershipLostException.class);
    }

    @Test
    void foreignChildWithASequenceSuffixNeverLeads() throws Exception {
        CuratorFramework raw = operator.curator();
        raw.create().creatingParentsIfNeeded().withMode(CreateMode.PERSISTENT)
                .forPath(electionPath() + "/zzz-0000000000", "foreign".getBytes(UTF_8));
        raw.create().withMode(CreateMode.PERSISTENT).forPath(electionPath() + "/n_0000000000", "foreign".getBytes(UTF_8));
        List<Optional<String>> seen = new CopyOnWriteArrayList<>();
        LeaderObserver observer = LeaderObserver.of(operator, election);
        toClose.add(observer);
        observer.addListener(leader -> seen.add(leader.map(Participant::id)));
        // before anyone joins, the election has no leader, whatever else lies in its node
        assertThat(observer.awaitLeader(l -> true, WAIT).orElseThrow()).isEmpty();

        ProxiedParticipant a = participant("a");
        Leadership term = a.elector.awaitLeadership(WAIT).orElseThrow();
        ProxiedParticipant b = participant("b");
        await().atMost(WAIT).until(() -> ids(a.elector).size() == 2);

        assertThat(ids(a.elector)).containsExactly("a", "b");
        assertThat(observer.participants()).extracting(Participant::id).containsExactly("a", "b");
        assertThat(b.elector.currentLeader()).map(Participant::id).contains("a");
        assertThat(b.elector.currentLeader().orElseThrow().token()).isEqualTo(term.token());
        assertThat(observer.awaitLeader(l -> l.map(Participant::id).equals(Optional.of("a")), WAIT)).isPresent();

        // the hand-off skips them too, and so does the empty election at the end
        a.elector.close();
        assertThat(b.elector.awaitLeadership(WAIT)).isPresent();
        assertThat(observer.awaitLeader(l -> l.map(Participant::id).equals(Optional.of("b")), WAIT)).isPresent();
        b.elector.close();
        assertThat(observer.awaitLeader(Optional::isEmpty, WAIT)).isPresent();
        assertThat(a.zk.curator().getChildren().forPath(electionPath()))
                .containsExactlyInAnyOrder("zzz-0000000000", "n_0000000000");
        // the listener runs on the observer's own thread: awaitLeader may return before it has heard
        await().atMost(WAIT).untilAsserted(() -> assertThat(seen)
                .containsExactly(Optional.empty(), Optional.of("a"), Optional.of("b"), Optional.empty()));
    }

    // ---- a term that ends on the server while the leader cannot hear it ----

    /**
     * The leader is blackholed; meanwhile the ensemble ends its term (an operator deletes its node,
     * or its session is expired) and the next participant leads and writes. After the heal, the
     * stale term's guarded commit is refused, the end is announced with the right reason (once),
     * nothing stale lands, and the old leader rejoins and leads again later with a greater token.
     */
    @ParameterizedTest
    @EnumSource(value = RevocationReason.class, names = {"NODE_DELETED", "SESSION_EXPIRED"})
    void commitThatFindsTheTermGoneIsAnnounced(RevocationReason how) throws Exception {
        String resource = "/resource/" + election;
        operator.curator().create().creatingParentsIfNeeded().forPath(resource, "initial".getBytes(UTF_8));
        ProxiedParticipant a = participant("a");
        Leadership oldTerm = a.elector.awaitLeadership(WAIT).orElseThrow();
        oldTerm.commit(a.zk.ops().setData(resource, "a".getBytes(UTF_8)));
        ProxiedParticipant b = participant("b");
        await().atMost(WAIT).until(() -> ids(b.elector).equals(List.of("a", "b")));
        String aNode = nodeOf(oldTerm.token());

        a.proxy.blackhole();
        if (how == RevocationReason.NODE_DELETED) {
            operator.curator().delete().forPath(aNode);
        } else {
            a.expireSession();
        }
        Leadership newTerm = b.elector.awaitLeadership(WAIT).orElseThrow();
        newTerm.commit(b.zk.ops().setData(resource, "b".getBytes(UTF_8)));
        a.proxy.heal();

        assertThatThrownBy(() -> oldTerm.commit(a.zk.ops().setData(resource, "stale a".getBytes(UTF_8))))
                .isInstanceOf(LeadershipLostException.class);
        assertThat(new String(operator.curator().getData().forPath(resource), UTF_8)).isEqualTo("b");
        assertThat(a.listener.awaitEvent(how, WAIT).token()).isEqualTo(oldTerm.token().value());
        assertThat(oldTerm.isValid()).isFalse();
        await().during(Duration.ofMillis(300)).atMost(WAIT)
                .until(() -> finalRevocations(a.listener, oldTerm.token().value()).size() == 1);

        // a rejoins behind b and leads once b leaves
        await().atMost(WAIT).until(() -> ids(b.elector).equals(List.of("b", "a")));
        assertThat(a.elector.isLeader()).isFalse();
        b.elector.close();
        Leadership again = a.elector.awaitLeadership(WAIT).orElseThrow();
        assertThat(again.token()).isGreaterThan(newTerm.token());
        again.commit(a.zk.ops().setData(resource, "a again".getBytes(UTF_8)));
        assertThat(new String(operator.curator().getData().forPath(resource), UTF_8)).isEqualTo("a again");
        assertThat(a.listener.events()).filteredOn(Event::isElected).extracting(Event::token)
                .containsExactly(oldTerm.token().value(), again.token().value());
    }

    /**
     * The leader's node is deleted while its connection is down long enough to be suspended, but not
     * long enough for the session to expire: when the same session reconnects, the term does not
     * resume and its end is announced as NODE_DELETED (the session lived), once.
     */
    @Test
    void leaderWhoseNodeIsDeletedWhileSuspendedHearsNodeDeletedOnReconnect() throws Exception {
        // 6 s session: the client suspends after about 4 s of silence, the server would expire at 6 s
        ProxiedParticipant a = new ProxiedParticipant(zk.connectString(), zk.port(), election, "a", Duration.ofSeconds(6));
        toClose.add(a);
        Leadership term = a.elector.awaitLeadership(WAIT).orElseThrow();
        ProxiedParticipant b = participant("b");
        await().atMost(WAIT).until(() -> ids(b.elector).equals(List.of("a", "b")));
        long session = sessionId(a.zk);

        a.proxy.blackhole();
        operator.curator().delete().forPath(nodeOf(term.token()));
        a.listener.awaitEvent(RevocationReason.CONNECTION_SUSPENDED, WAIT);
        a.proxy.heal();

        a.listener.awaitEvent(RevocationReason.NODE_DELETED, WAIT);
        await().atMost(WAIT).until(() -> ids(b.elector).equals(List.of("b", "a")));
        await().during(Duration.ofMillis(500)).atMost(WAIT).until(() -> a.listener.events().size() == 3);
        assertThat(a.listener.events()).extracting(Event::toString).containsExactly("elected@" + term.token(),
                "revoked:CONNECTION_SUSPENDED@" + term.token(), "revoked:NODE_DELETED@" + term.token());
        assertThat(sessionId(a.zk)).as("a's session after the heal").isEqualTo(session);
        assertThat(b.elector.isLeader()).isTrue();
        assertThat(operator.curator().getChildren().forPath(electionPath())).hasSize(2);
    }

    // ---- bounded closing calls ----

    @Test
    void closeAndResignReturnWithinTheirBoundWhileBlackholed() throws Exception {
        Duration connectionTimeout = Duration.ofSeconds(1);
        long bound = connectionTimeout.plusSeconds(1).toMillis();
        LoopbackProxy proxy = LoopbackProxy.to(zk.port());
        toClose.add(proxy);
        ZkRecipes client = connect(proxy.connectString(), SESSION, connectionTimeout);
        toClose.add(client);
        RecordingListener listener = new RecordingListener();
        LeaderElector a = LeaderElector.builder(client, election).participantId("a").listener(listener).build();
        toClose.add(a);
        a.start();
        Leadership term = a.awaitLeadership(WAIT).orElseThrow();
        ProxiedParticipant b = participant("b");
        await().atMost(WAIT).until(() -> ids(b.elector).equals(List.of("a", "b")));
        long session = sessionId(client);

        proxy.blackhole();
        long resignStart = System.nanoTime();
        a.resign();
        long resignMillis = millisSince(resignStart);
        boolean validAfterResign = term.isValid();
        long closeStart = System.nanoTime();
        a.close();
        long closeMillis = millisSince(closeStart);
        proxy.heal();
        long healed = System.nanoTime();

        assertThat(resignMillis).as("resign() while blackholed, ms").isLessThanOrEqualTo(bound);
        assertThat(validAfterResign).as("term valid when resign() returned").isFalse();
        assertThat(closeMillis).as("close() while blackholed, ms").isLessThanOrEqualTo(bound);
        assertThat(listener.first(RevocationReason.RESIGNED).orElseThrow().token()).isEqualTo(term.token().value());

        // Curator's background delete, not the session's end, removes every node a had
        await().atMost(Duration.ofSeconds(2)).until(() -> operator.curator().getChildren().forPath(electionPath()).size() == 1);
        long goneAfter = millisSince(healed);
        assertThat(ids(b.elector)).containsExactly("b");
        assertThat(sessionId(client)).as("a's session after the heal").isEqualTo(session);
        assertThat(b.elector.awaitLeadership(WAIT)).isPresent();
        assertThat(goneAfter).as("ms from heal until a's nodes were gone").isLessThan(SESSION.toMillis());
    }

    // ---- connection flaps ----

    @Test
    void revokedIsHeardExactlyOncePerTermUnderRepeatedCuts() throws Exception {
        int cuts = 5;
        ProxiedParticipant a = participant("a");
        Leadership term = a.elector.awaitLeadership(WAIT).orElseThrow();
        ProxiedParticipant b = participant("b");
        await().atMost(WAIT).until(() -> ids(b.elector).equals(List.of("a", "b")));
        long session = sessionId(a.zk);
        List<String> nodesBefore = operator.curator().getChildren().forPath(electionPath());
        List<String> expected = new ArrayList<>(List.of("elected@" + term.token()));

        for (int i = 1; i <= cuts; i++) {
            a.proxy.cut();
            int events = 1 + 2 * i;
            await().atMost(WAIT).until(() -> a.listener.events().size() >= events);
            expected.add("revoked:CONNECTION_SUSPENDED@" + term.token());
            expected.add("elected@" + term.token());
            assertThat(a.listener.events()).as("after cut " + i).extracting(Event::toString).isEqualTo(expected);
            assertThat(sessionId(a.zk)).as("session after cut " + i).isEqualTo(session);
        }

        await().during(Duration.ofMillis(500)).atMost(WAIT).until(() -> a.listener.events().size() == 1 + 2 * cuts);
        assertThat(a.listener.events()).extracting(Event::toString).isEqualTo(expected);
        assertThat(term.isValid()).isTrue();
        assertThat(a.elector.awaitLeadership(WAIT).orElseThrow().token()).isEqualTo(term.token());
        assertThat(b.listener.events()).isEmpty();
        assertThat(operator.curator().getChildren().forPath(electionPath())).containsExactlyInAnyOrderElementsOf(nodesBefore);
    }

    // ---- lifecycle races ----

    @Test
    void startAndCloseRacingLeaveNoConnectionListener() throws Exception {
        int rounds = 50;
        ZkRecipes client = Clients.connect(zk.connectString(), SESSION);
        toClose.add(client);
        ListenerManager<?, ?> listeners = (ListenerManager<?, ?>) client.curator().getConnectionStateListenable();
        int before = listeners.size();
        ExecutorService two = Executors.newFixedThreadPool(2);
        try {
            // the same elector started on one thread and closed on the other at the same moment
            for (int i = 0; i < rounds; i++) {
                LeaderElector e = LeaderElector.builder(client, election).participantId("race-" + i).build();
                CountDownLatch go = new CountDownLatch(1);
                Future<?> start = two.submit(() -> {
                    go.await();
                    try {
                        e.start();
                    } catch (IllegalStateException closedFirst) {
                        // close won the race: start refuses, which is what it should do
                    }
                    return null;
                });
                Future<?> close = two.submit(() -> {
                    go.await();
                    e.close();
                    return null;
                });
                go.countDown();
                start.get(10, TimeUnit.SECONDS);
                close.get(10, TimeUnit.SECONDS);
            }
            // and whole lives, build-start-close, on two threads at once
            List<Future<?>> loops = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                int thread = t;
                loops.add(two.submit(() -> {
                    for (int i = 0; i < rounds / 2; i++) {
                        LeaderElector e = LeaderElector.builder(client, election).participantId("loop-" + thread + "-" + i).build();
                        e.start();
                        e.close();
                    }
                    return null;
                }));
            }
            for (Future<?> loop : loops) {
                loop.get(60, TimeUnit.SECONDS);
            }
        } finally {
            two.shutdownNow();
        }

        assertThat(listeners.size()).as("connection-state listeners on the client").isEqualTo(before);
        // nothing left behind either: no node of any of them, and no thread of theirs
        await().atMost(WAIT).until(() -> operator.curator().checkExists().forPath(electionPath()) == null
                || operator.curator().getChildren().forPath(electionPath()).isEmpty());
        String threadPrefix = "zkr-election-" + election;
        await().atMost(WAIT).until(() -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().startsWith(threadPrefix) && t.isAlive()));
    }

    /**
     * Whether {@code client} holds a watcher on {@code path}. A probe, not a read: it takes the
     * watchers away (locally), so ask once.
     */
    private static boolean takeWatchers(ZkRecipes client, String path) throws Exception {
        try {
            client.curator().getZookeeperClient().getZooKeeper().removeAllWatches(path, Watcher.WatcherType.Any, true);
            return true;
        } catch (KeeperException.NoWatcherException none) {
            return false;
        }
    }

    /**
     * FAULTS.md: after close(), no leftover watchers. A follower watches the node just ahead of it;
     * once it has left, its client must no longer hold that watcher (LeaderObserver takes its own
     * back the same way). Otherwise every follower that joins and leaves while the same node leads
     * adds one more watcher, holding the closed participant, until that node changes.
     */
    @Test
    void closedFollowerLeavesNoWatcherOnTheNodeAheadOfIt() throws Exception {
        ProxiedParticipant a = participant("a");
        String aNode = nodeOf(a.elector.awaitLeadership(WAIT).orElseThrow().token());
        // control: the probe does see the watcher of a follower that is still in line
        ZkRecipes stayingClient = Clients.connect(zk.connectString(), SESSION);
        toClose.add(stayingClient);
        LeaderElector staying = LeaderElector.builder(stayingClient, election).participantId("staying").build();
        toClose.add(staying);
        staying.start();
        await().atMost(WAIT).until(() -> ids(a.elector).equals(List.of("a", "staying")));
        assertThat(takeWatchers(stayingClient, aNode)).as("watcher of a follower in line").isTrue();
        staying.close();
        await().atMost(WAIT).until(() -> ids(a.elector).equals(List.of("a")));

        ZkRecipes leavingClient = Clients.connect(zk.connectString(), SESSION);
        toClose.add(leavingClient);
        LeaderElector leaving = LeaderElector.builder(leavingClient, election).participantId("leaving").build();
        leaving.start();
        await().atMost(WAIT).until(() -> ids(a.elector).equals(List.of("a", "leaving")));
        leaving.close();
        await().atMost(WAIT).until(() -> ids(a.elector).equals(List.of("a")));
        // room for a removal sent in the background, as LeaderObserver's is
        await().pollDelay(Duration.ofMillis(300)).atMost(WAIT).until(() -> true);

        assertThat(takeWatchers(leavingClient, aNode))
                .as("a watcher of the closed follower 'leaving' still registered on its client for " + aNode)
                .isFalse();
    }
}
