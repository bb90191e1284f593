package dev.zkrecipes.it.election;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.election.LeaderElector;
import dev.zkrecipes.election.Participant;
import dev.zkrecipes.election.RevocationReason;
import dev.zkrecipes.it.election.RecordingListener.Event;
import dev.zkrecipes.testing.ClientWatchers;
import dev.zkrecipes.testing.Clients;
import dev.zkrecipes.testing.EmbeddedZk;
import dev.zkrecipes.testing.LoopbackProxy.Opcodes;
import dev.zkrecipes.testing.LoopbackProxy;
import dev.zkrecipes.testing.OverlapChecker;
import dev.zkrecipes.testing.SessionKiller;
import dev.zkrecipes.testing.TeeOutputStream;
import dev.zkrecipes.testing.ZkServers;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.TestInfo;

/**
 * Review of 2a5460c: a closing participant sends its delete alone and takes its watchers back
 * (Watches.removeLocally, a request each) only once the delete is answered, its bound passed, or
 * the wait was interrupted (in a finally block).
 *
 * <p>What must hold after {@link LeaderElector#close()}, whatever the connection did meanwhile:
 * no watcher of the closed participant left in its client's ZooKeeper watch table (once the client
 * can talk to the server again on the same session); no callback after {@code revoked(CLOSED)}; no
 * new node; close() returns within its bound (the client's connection timeout) plus slack; never
 * two valid leaders. Each participant has its own client and proxy, so a client's watch table is
 * that participant's alone.
 */
class ElectionCloseWatchersReviewIT {

    @RegisterExtension
    static final EmbeddedZk zk = EmbeddedZk.server();

    /** Long enough that the outages below (at most ~3 s) never expire a session. */
    private static final Duration SESSION = Duration.ofSeconds(8);
    /** The close bound: Deadline.forClosing is the client's connection timeout. */
    private static final Duration BOUND = Duration.ofMillis(1500);
    /** What close() may take past its bound (scheduling, the worker's last turn). */
    private static final Duration SLACK = Duration.ofMillis(700);
    private static final Duration WAIT = Duration.ofSeconds(10);

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private String election;
    private ZkRecipes operator;
    private LeaderElector observer;

    @BeforeEach
    void setUp(TestInfo info) {
        operator = Clients.connect(zk.connectString(), SESSION);
        toClose.add(operator);
        useElection("closewatchers/" + info.getTestMethod().orElseThrow().getName());
    }

    private void useElection(String name) {
        election = name;
        // reads the line only; never started, so it takes no part
        observer = LeaderElector.builder(operator, election).participantId("observer").build();
    }

    @AfterEach
    void tearDown() {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            ZkServers.closeQuietly(toClose.get(i));
        }
        toClose.clear();
    }

    // ---- participants ----

    /** One participant on its own client, session and proxy, with a short close bound. */
    private final class Member implements AutoCloseable {
        final String id;
        final LoopbackProxy proxy;
        final ZkRecipes client;
        final RecordingListener listener = new RecordingListener();
        final LeaderElector elector;

        Member(String id) {
            this.id = id;
            this.proxy = LoopbackProxy.to(zk.port());
            this.client = Clients.connect(proxy.connectString(), SESSION, BOUND);
            this.elector = LeaderElector.builder(client, election).participantId(id).listener(listener).build();
            elector.start();
        }

        long sessionId() throws Exception {
            return client.curator().getZookeeperClient().getZooKeeper().getSessionId();
        }

        @Override
        public void close() {
            ZkServers.closeQuietly(elector);
            ZkServers.closeQuietly(client);
            ZkServers.closeQuietly(proxy);
        }

        @Override
        public String toString() {
            return id;
        }
    }

    /** Starts participants one after the other, so that the line is in the order given. */
    private List<Member> line(String... ids) throws Exception {
        List<Member> line = new ArrayList<>();
        List<String> expected = new ArrayList<>();
        for (String id : ids) {
            Member m = new Member(id);
            toClose.add(m);
            line.add(m);
            expected.add(id);
            await().atMost(WAIT).until(() -> ids().equals(expected));
        }
        line.get(0).elector.awaitLeadership(WAIT).orElseThrow();
        return line;
    }

    private List<String> ids() {
        return observer.participants().stream().map(Participant::id).toList();
    }

    private String electionPath() {
        return ZkRecipes.ROOT + "/elections/" + election;
    }

    private String nodeOf(String id) throws Exception {
        long token = observer.participants().stream().filter(p -> p.id().equals(id)).findFirst().orElseThrow()
                .token().value();
        for (String child : operator.curator().getChildren().forPath(electionPath())) {
            String path = electionPath() + "/" + child;
            var stat = operator.curator().checkExists().forPath(path);
            if (stat != null && stat.getCzxid() == token) {
                return path;
            }
        }
        throw new AssertionError("no node of " + id);
    }

    private static OverlapChecker checker(Member... ms) {
        Map<String, BooleanSupplier> claims = new LinkedHashMap<>();
        for (Member m : ms) {
            claims.put(m.id, m.elector::isLeader);
        }
        return new OverlapChecker(claims);
    }

    // ---- the client's watch table ----

    /**
     * Every watcher {@code client}'s ZooKeeper handle holds on a path under the election, per table
     * and path (data, exist, child, persistent...): how many watcher objects. Read from ZooKeeper's
     * package-private watch manager, without taking anything away.
     */
    private Map<String, Integer> watchers(ZkRecipes client) throws Exception {
        return ClientWatchers.under(client, electionPath());
    }

    // ---- what a closed participant may still do ----

    /** Times close() of {@code m} on this thread. */
    private static Duration timedClose(Member m) {
        long start = System.nanoTime();
        m.elector.close();
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        System.out.println("ElectionCloseWatchersReviewIT: close() of " + m + " took " + took.toMillis() + " ms");
        return took;
    }

    /**
     * After close: no watcher left on its client, its node gone, no callback but one revoked(CLOSED)
     * for a term it held when it closed, and nothing more for a while (no new term, no new node).
     *
     * @param eventsBefore how many callbacks it had heard when close() was called
     * @param ledAtClose whether it held a term then
     */
    private void assertClosedAndQuiet(Member m, int eventsBefore, boolean ledAtClose) throws Exception {
        await().atMost(WAIT).untilAsserted(() -> assertThat(ids()).as("line after %s closed", m).doesNotContain(m.id));
        await().atMost(Duration.ofSeconds(3)).untilAsserted(() -> assertThat(watchers(m.client))
                .as("watchers left on %s's client after it closed", m).isEmpty());
        // quiet for a while: no callback, no node, no watcher comes back
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5)).until(() -> !ids().contains(m.id)
                && watchers(m.client).isEmpty() && !m.elector.isLeader());
        List<Event> all = m.listener.events();
        List<Event> after = all.subList(Math.min(eventsBefore, all.size()), all.size());
        if (ledAtClose) {
            assertThat(after).as("%s's callbacks from close() on (all: %s)", m, all).hasSize(1);
            assertThat(after.get(0).reason()).as("%s's callback on close", m).isEqualTo(RevocationReason.CLOSED);
        } else {
            assertThat(after).as("%s's callbacks from close() on, a follower (all: %s)", m, all).isEmpty();
        }
        if (!all.isEmpty()) {
            assertThat(all.get(all.size() - 1).isElected()).as("%s: its last callback ends its term (%s)", m, all).isFalse();
        }
    }

    // ---- log capture (slf4j-simple writes to System.err as it is at each call) ----

    /** WARN and ERROR lines of the election's own code (Candidate, its executors) in {@code log}. */
    private static List<String> electionWarnings(String log) {
        return log.lines().filter(l -> l.contains("WARN") || l.contains("ERROR"))
                .filter(l -> l.contains("Candidate") || l.contains("SerialExecutor") || l.contains("LeaderElector"))
                .toList();
    }

    // =============================================================================================
    // 1. graceful closes on a healthy connection: leader, next in line, a follower watching the head
    // =============================================================================================

    /**
     * a b c d e in line (b watches a and its own node; c, d, e watch the head and the one ahead).
     * Closed in the order leader a, follower d (behind the next), next in line c... every close
     * leaves no watcher, no callback after CLOSED, no node, logs no warning; the hand-off never shows
     * two valid leaders, and close() of a leader returns well before its bound.
     */
    @Test
    void gracefulClosesOfLeaderNextAndFollowersLeaveNoWatcherNoCallbackNoWarning() throws Exception {
        List<Member> line = line("a", "b", "c", "d", "e");
        Member a = line.get(0);
        Member b = line.get(1);
        Member c = line.get(2);
        Member d = line.get(3);
        Member e = line.get(4);
        String aNode = nodeOf("a");
        String bNode = nodeOf("b");
        String cNode = nodeOf("c");
        // controls: the watch tables hold what the election set, so the checks can fail
        await().atMost(WAIT).untilAsserted(() -> assertThat(watchers(b.client).keySet())
                .anyMatch(k -> k.endsWith(aNode)).anyMatch(k -> k.endsWith(bNode)));
        await().atMost(WAIT).untilAsserted(() -> assertThat(watchers(d.client).keySet())
                .anyMatch(k -> k.endsWith(aNode)).anyMatch(k -> k.endsWith(cNode)));

        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream err = System.err;
        System.setErr(new PrintStream(new TeeOutputStream(err, captured), true, StandardCharsets.UTF_8));
        OverlapChecker checker = checker(a, b, c, d, e);
        try {
            // the leader: b takes over
            int before = a.listener.events().size();
            Duration took = timedClose(a);
            assertThat(took).as("close() of the leader on a healthy connection").isLessThan(Duration.ofMillis(1000));
            b.elector.awaitLeadership(WAIT).orElseThrow();
            assertClosedAndQuiet(a, before, true);

            // a follower two places back (watches the head b and c ahead of it)
            before = d.listener.events().size();
            timedClose(d);
            assertClosedAndQuiet(d, before, false);

            // the next in line (watches b and its own node)
            await().atMost(WAIT).untilAsserted(() -> assertThat(watchers(c.client).keySet())
                    .anyMatch(k -> k.endsWith(cNode)));
            before = c.listener.events().size();
            timedClose(c);
            assertClosedAndQuiet(c, before, false);

            // the leader again, with e now next: e takes over; then e, alone
            before = b.listener.events().size();
            timedClose(b);
            e.elector.awaitLeadership(WAIT).orElseThrow();
            assertClosedAndQuiet(b, before, true);
            before = e.listener.events().size();
            timedClose(e);
            assertClosedAndQuiet(e, before, true);
        } finally {
            checker.close();
            System.setErr(err);
        }
        assertThat(checker.overlaps()).as("moments with two valid leaders").isEmpty();
        assertThat(electionWarnings(captured.toString(StandardCharsets.UTF_8)))
                .as("warnings logged by graceful closes on a healthy connection").isEmpty();
        // no election thread is left busy for this election's participants
        await().atMost(Duration.ofSeconds(3)).until(() -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.isAlive() && t.getName().contains("election-" + election)));
    }

    // =============================================================================================
    // 2. leader and next in line close at the same moment (the own delete and the leader's delete
    //    fire b's watches between its delete's reply and the take-back)
    // =============================================================================================

    @Test
    void leaderAndNextInLineClosingTogetherLeaveNoWatcherAndTheThirdLeads() throws Exception {
        String base = election;
        for (int round = 0; round < 4; round++) {
            useElection(base + "/round" + round);
            List<Member> line = line("a", "b", "c");
            Member a = line.get(0);
            Member b = line.get(1);
            Member c = line.get(2);
            String bNode = nodeOf("b");
            await().atMost(WAIT).untilAsserted(() -> assertThat(watchers(b.client).keySet())
                    .anyMatch(k -> k.endsWith(bNode)));
            OverlapChecker checker = checker(a, b, c);
            int aBefore = a.listener.events().size();
            CountDownLatch go = new CountDownLatch(1);
            CompletableFuture<Void> closingB = CompletableFuture.runAsync(() -> {
                try {
                    go.await(5, TimeUnit.SECONDS);
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                }
                b.elector.close();
            });
            CompletableFuture<Void> closingA = CompletableFuture.runAsync(() -> {
                try {
                    go.await(5, TimeUnit.SECONDS);
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                }
                a.elector.close();
            });
            go.countDown();
            try {
                closingA.get(BOUND.plus(SLACK).toMillis(), TimeUnit.MILLISECONDS);
                closingB.get(BOUND.plus(SLACK).toMillis(), TimeUnit.MILLISECONDS);
                c.elector.awaitLeadership(WAIT).orElseThrow();
            } finally {
                checker.close();
            }
            assertClosedAndQuiet(a, aBefore, true);
            // b may have been elected between a's delete and its own close: then that term ended CLOSED
            int r = round;
            await().atMost(Duration.ofSeconds(3)).until(() -> {
                List<Event> ev = b.listener.events();
                return ev.isEmpty() || !ev.get(ev.size() - 1).isElected();
            });
            List<Event> bEvents = b.listener.events();
            await().atMost(Duration.ofSeconds(3)).untilAsserted(() -> assertThat(watchers(b.client))
                    .as("round %d: watchers left on b's client", r).isEmpty());
            assertThat(ids()).as("round %d: line", r).containsExactly("c");
            if (!bEvents.isEmpty()) {
                assertThat(bEvents.get(bEvents.size() - 1).reason()).as("round %d: b's last callback (%s)", r, bEvents)
                        .isEqualTo(RevocationReason.CLOSED);
            }
            await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(3))
                    .until(() -> b.listener.events().equals(bEvents) && watchers(b.client).isEmpty());
            assertThat(checker.overlaps()).as("round %d: moments with two valid leaders", round).isEmpty();
            for (Member m : line) {
                toClose.remove(m);
                m.close();
            }
        }
    }

    // =============================================================================================
    // 3. close while the connection is blackholed (the client still believes it is connected)
    // =============================================================================================

    @Test
    void leaderClosingWhileBlackholedReturnsWithinItsBoundAndLeavesNoWatcherOnceHealed() throws Exception {
        List<Member> line = line("a", "b", "c", "d");
        Member a = line.get(0);
        Member b = line.get(1);
        long aSession = a.sessionId();
        // a leads: its own node watched
        await().atMost(WAIT).untilAsserted(() -> assertThat(watchers(a.client)).isNotEmpty());
        OverlapChecker checker = checker(line.toArray(Member[]::new));
        int before = a.listener.events().size();
        Duration took;
        try {
            a.proxy.blackhole();
            took = timedClose(a);
            assertThat(a.elector.isLeader()).isFalse();
            a.proxy.heal();
            b.elector.awaitLeadership(WAIT).orElseThrow();
        } finally {
            a.proxy.heal();
            checker.close();
        }
        assertThat(took).as("close() on a blackholed connection").isLessThan(BOUND.plus(SLACK));
        assertClosedAndQuiet(a, before, true);
        assertThat(a.sessionId()).as("a's session survived (else the watch table is new and empty anyway)")
                .isEqualTo(aSession);
        assertThat(checker.overlaps()).as("moments with two valid leaders").isEmpty();
    }

    // =============================================================================================
    // 4. close while the connection is down (reset, reconnects blackholed): Curator holds the delete
    // =============================================================================================

    @Test
    void followerWatchingTheHeadClosingWhileDisconnectedLeavesNoWatcherAfterReconnectingOnItsSession()
            throws Exception {
        List<Member> line = line("a", "b", "c", "d");
        Member d = line.get(3);
        long dSession = d.sessionId();
        String aNode = nodeOf("a");
        String cNode = nodeOf("c");
        await().atMost(WAIT).untilAsserted(() -> assertThat(watchers(d.client).keySet())
                .anyMatch(k -> k.endsWith(aNode)).anyMatch(k -> k.endsWith(cNode)));
        int before = d.listener.events().size();
        Duration took;
        try {
            d.proxy.blackhole();
            d.proxy.cut();
            await().atMost(WAIT).until(() -> !d.client.curator().getZookeeperClient().isConnected());
            took = timedClose(d);
            d.proxy.heal();
            await().atMost(WAIT).until(() -> d.client.curator().getZookeeperClient().isConnected());
        } finally {
            d.proxy.heal();
        }
        assertThat(took).as("close() while disconnected").isLessThan(BOUND.plus(SLACK));
        assertThat(d.sessionId()).as("d reconnected on its session (SetWatches re-arms what is left)")
                .isEqualTo(dSession);
        assertClosedAndQuiet(d, before, false);
        // the others are undisturbed: a still leads, the line is a b c
        assertThat(ids()).containsExactly("a", "b", "c");
        assertThat(line.get(0).elector.isLeader()).isTrue();
    }

    @Test
    void leaderClosingWhileDisconnectedEndsItsTermAtOnceAndLeavesNoWatcherAfterReconnecting() throws Exception {
        List<Member> line = line("a", "b", "c");
        Member a = line.get(0);
        Member b = line.get(1);
        long aSession = a.sessionId();
        await().atMost(WAIT).untilAsserted(() -> assertThat(watchers(a.client)).isNotEmpty());
        OverlapChecker checker = checker(line.toArray(Member[]::new));
        int before;
        Duration took;
        try {
            a.proxy.blackhole();
            a.proxy.cut();
            await().atMost(WAIT).until(() -> !a.client.curator().getZookeeperClient().isConnected());
            // the term is suspended first (revoked CONNECTION_SUSPENDED); close() then ends it (CLOSED)
            a.listener.awaitEvent(RevocationReason.CONNECTION_SUSPENDED, WAIT);
            before = a.listener.events().size();
            took = timedClose(a);
            a.proxy.heal();
            b.elector.awaitLeadership(WAIT).orElseThrow();
        } finally {
            a.proxy.heal();
            checker.close();
        }
        assertThat(took).as("close() while disconnected").isLessThan(BOUND.plus(SLACK));
        assertThat(a.sessionId()).as("a reconnected on its session").isEqualTo(aSession);
        assertClosedAndQuiet(a, before, true);
        assertThat(checker.overlaps()).as("moments with two valid leaders").isEmpty();
    }

    // =============================================================================================
    // 5. close interrupted while it waits for its delete
    // =============================================================================================

    @Test
    void leaderWhoseCloseIsInterruptedWhileItsDeleteIsInFlightLeavesNoWatcherAndKeepsTheInterrupt()
            throws Exception {
        List<Member> line = line("a", "b", "c");
        Member a = line.get(0);
        Member b = line.get(1);
        await().atMost(WAIT).untilAsserted(() -> assertThat(watchers(a.client)).isNotEmpty());
        OverlapChecker checker = checker(line.toArray(Member[]::new));
        int before = a.listener.events().size();
        AtomicBoolean interruptKept = new AtomicBoolean();
        AtomicLong tookNanos = new AtomicLong();
        CountDownLatch closing = new CountDownLatch(1);
        Thread closer = new Thread(() -> {
            closing.countDown();
            long start = System.nanoTime();
            a.elector.close();
            tookNanos.set(System.nanoTime() - start);
            interruptKept.set(Thread.currentThread().isInterrupted());
        }, "review-closer");
        try {
            a.proxy.stallRequestsFrom(Opcodes.DELETE);
            closer.start();
            assertThat(closing.await(5, TimeUnit.SECONDS)).isTrue();
            assertThat(a.proxy.awaitStalledRequest(WAIT)).as("a's delete held in the proxy").isTrue();
            closer.interrupt();
            closer.join(BOUND.plus(SLACK).toMillis());
            assertThat(closer.isAlive()).as("close() still running after its bound").isFalse();
            assertThat(a.elector.isLeader()).isFalse();
            // nobody leads while a's node is still there
            assertThat(b.elector.isLeader()).isFalse();
        } finally {
            a.proxy.releaseRequests();
        }
        try {
            b.elector.awaitLeadership(WAIT).orElseThrow();
        } finally {
            checker.close();
        }
        assertThat(Duration.ofNanos(tookNanos.get())).as("interrupted close()").isLessThan(BOUND);
        assertThat(interruptKept.get()).as("close() kept the caller's interrupt").isTrue();
        assertClosedAndQuiet(a, before, true);
        assertThat(checker.overlaps()).as("moments with two valid leaders").isEmpty();
    }

    // =============================================================================================
    // 6. the session expires while close() waits for its delete
    // =============================================================================================

    @Test
    void leaderWhoseSessionExpiresWhileItsDeleteIsInFlightStaysClosed() throws Exception {
        List<Member> line = line("a", "b", "c");
        Member a = line.get(0);
        Member b = line.get(1);
        long aSession = a.sessionId();
        await().atMost(WAIT).untilAsserted(() -> assertThat(watchers(a.client)).isNotEmpty());
        OverlapChecker checker = checker(line.toArray(Member[]::new));
        int before = a.listener.events().size();
        CompletableFuture<Duration> closing;
        try {
            a.proxy.stallRequestsFrom(Opcodes.DELETE);
            closing = CompletableFuture.supplyAsync(() -> timedClose(a));
            assertThat(a.proxy.awaitStalledRequest(WAIT)).as("a's delete held in the proxy").isTrue();
            SessionKiller.expire(a.client.curator(), zk.connectString());
        } finally {
            a.proxy.releaseRequests();
        }
        Duration took;
        try {
            took = closing.get(BOUND.plus(SLACK).toMillis(), TimeUnit.MILLISECONDS);
            b.elector.awaitLeadership(WAIT).orElseThrow();
            await().atMost(WAIT).until(() -> a.client.curator().getZookeeperClient().isConnected()
                    && a.sessionId() != aSession);
        } finally {
            checker.close();
        }
        assertThat(took).as("close() while its session expired").isLessThan(BOUND.plus(SLACK));
        assertClosedAndQuiet(a, before, true);
        assertThat(checker.overlaps()).as("moments with two valid leaders").isEmpty();
    }
}
