package dev.zkrecipes.it.election;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.zkrecipes.core.FencingToken;
import dev.zkrecipes.core.LeadershipLostException;
import dev.zkrecipes.core.PayloadTooLargeException;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.election.LeaderElector;
import dev.zkrecipes.election.LeaderObserver;
import dev.zkrecipes.election.Leadership;
import dev.zkrecipes.election.LeadershipListener;
import dev.zkrecipes.election.Participant;
import dev.zkrecipes.election.RevocationReason;
import dev.zkrecipes.testing.Clients;
import dev.zkrecipes.testing.ZkServers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/** The election's contract on one real server, without faults. */
class ElectionIT {

    private static final Duration WAIT = Duration.ofSeconds(10);

    private static TestingServer server;
    private static ZkRecipes a;
    private static ZkRecipes b;
    private static ZkRecipes c;

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private String election;

    @BeforeAll
    static void startServer() {
        server = ZkServers.startServer();
        a = Clients.connect(server.getConnectString());
        b = Clients.connect(server.getConnectString());
        c = Clients.connect(server.getConnectString());
    }

    @AfterAll
    static void stopServer() {
        ZkServers.closeQuietly(a);
        ZkServers.closeQuietly(b);
        ZkServers.closeQuietly(c);
        ZkServers.closeQuietly(server);
    }

    @org.junit.jupiter.api.BeforeEach
    void name(TestInfo info) {
        election = "it/" + info.getTestMethod().orElseThrow().getName();
    }

    @AfterEach
    void closeAll() {
        toClose.forEach(ZkServers::closeQuietly);
    }

    private LeaderElector start(ZkRecipes zk, String id, LeadershipListener listener) {
        LeaderElector.Builder builder = LeaderElector.builder(zk, election).participantId(id).data((id + "-data").getBytes(UTF_8));
        if (listener != null) {
            builder.listener(listener);
        }
        LeaderElector e = builder.build();
        toClose.add(e);
        e.start();
        return e;
    }

    private static void awaitParticipants(LeaderElector e, int n) {
        await().atMost(WAIT).until(() -> e.participants().size() == n);
    }

    @Test
    void firstToJoinLeadsAndCloseHandsOffInJoinOrderWithIncreasingTokens() throws Exception {
        RecordingListener la = new RecordingListener();
        RecordingListener lb = new RecordingListener();
        RecordingListener lc = new RecordingListener();
        LeaderElector ea = start(a, "a", la);
        ea.awaitLeadership(WAIT).orElseThrow();
        LeaderElector eb = start(b, "b", lb);
        awaitParticipants(ea, 2);
        LeaderElector ec = start(c, "c", lc);
        awaitParticipants(ea, 3);

        assertThat(ea.participants()).extracting(Participant::id).containsExactly("a", "b", "c");
        assertThat(eb.isLeader()).isFalse();
        assertThat(ec.isLeader()).isFalse();
        long tokenA = la.awaitElected(1, WAIT).token();

        ea.close();
        long tokenB = lb.awaitElected(1, WAIT).token();
        assertThat(la.events()).extracting(RecordingListener.Event::reason).containsExactly(null, RevocationReason.CLOSED);
        assertThat(tokenB).isGreaterThan(tokenA);
        assertThat(lc.electedCount()).isZero();

        eb.close();
        long tokenC = lc.awaitElected(1, WAIT).token();
        assertThat(tokenC).isGreaterThan(tokenB);
        assertThat(ec.currentLeader()).map(Participant::id).contains("c");
    }

    @Test
    void resignedLeaderRevokedAndRejoinsAtTheBack() throws Exception {
        RecordingListener la = new RecordingListener();
        LeaderElector ea = start(a, "a", la);
        Leadership first = ea.awaitLeadership(WAIT).orElseThrow();
        LeaderElector eb = start(b, "b", null);
        awaitParticipants(ea, 2);

        ea.resign();

        assertThat(ea.isLeader()).isFalse();
        assertThat(first.isValid()).isFalse();
        assertThat(eb.awaitLeadership(WAIT)).isPresent();
        assertThat(ea.participants()).extracting(Participant::id).containsExactly("b", "a");
        assertThat(la.awaitEvent(RevocationReason.RESIGNED, WAIT).token()).isEqualTo(first.token().value());
    }

    @Test
    void resignWhenNotLeadingKeepsThePlaceInLine() throws Exception {
        LeaderElector ea = start(a, "a", null);
        ea.awaitLeadership(WAIT).orElseThrow();
        LeaderElector eb = start(b, "b", null);
        awaitParticipants(ea, 2);
        LeaderElector ec = start(c, "c", null);
        awaitParticipants(ea, 3);

        eb.resign();

        assertThat(ea.participants()).extracting(Participant::id).containsExactly("a", "b", "c");
        assertThat(ea.isLeader()).isTrue();
    }

    @Test
    void leaderDataIsReadableThroughCurrentLeaderAndObserver() throws Exception {
        LeaderElector ea = start(a, "a", null);
        Leadership term = ea.awaitLeadership(WAIT).orElseThrow();
        LeaderElector eb = start(b, "b", null);

        Participant seenByOther = eb.currentLeader().orElseThrow();
        assertThat(seenByOther.id()).isEqualTo("a");
        assertThat(seenByOther.dataAsString()).isEqualTo("a-data");
        assertThat(seenByOther.token()).isEqualTo(term.token());

        try (LeaderObserver observer = LeaderObserver.of(c, election)) {
            Optional<Participant> seen = observer.awaitLeader(Optional::isPresent, WAIT).orElseThrow();
            assertThat(seen.orElseThrow().dataAsString()).isEqualTo("a-data");
            assertThat(seen.orElseThrow().token()).isEqualTo(term.token());
        }
    }

    @Test
    void observerSeesEveryLeaderChangeInOrder() throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        try (LeaderObserver observer = LeaderObserver.of(c, election)) {
            observer.addListener(leader -> seen.add(leader.map(Participant::id).orElse("-")));
            await().atMost(WAIT).until(() -> seen.contains("-"));

            LeaderElector ea = start(a, "a", null);
            await().atMost(WAIT).until(() -> seen.contains("a"));
            LeaderElector eb = start(b, "b", null);
            awaitParticipants(ea, 2);
            ea.close();
            await().atMost(WAIT).until(() -> seen.contains("b"));
            eb.close();
            await().atMost(WAIT).until(() -> seen.size() >= 4);

            assertThat(seen).containsExactly("-", "a", "b", "-");
        }
    }

    @Test
    void guardedCommitAppliesWhileTermHoldsAndNothingAfterItEnds() throws Exception {
        a.curator().create().creatingParentsIfNeeded().forPath("/resource/" + election, new byte[0]);
        String resource = "/resource/" + election;
        LeaderElector ea = start(a, "a", null);
        Leadership term = ea.awaitLeadership(WAIT).orElseThrow();

        term.commit(a.curator().transactionOp().setData().forPath(resource, "one".getBytes(UTF_8)));
        assertThat(new String(a.curator().getData().forPath(resource), UTF_8)).isEqualTo("one");

        ea.resign();
        assertThatThrownBy(() -> term.commit(a.curator().transactionOp().setData().forPath(resource, "two".getBytes(UTF_8))))
                .isInstanceOf(LeadershipLostException.class)
                .hasMessageContaining("token " + term.token());
        assertThat(new String(a.curator().getData().forPath(resource), UTF_8)).isEqualTo("one");
    }

    @Test
    void guardInOwnTransactionFailsOnTheServerOnceTheNodeIsGone() throws Exception {
        LeaderElector ea = start(a, "a", null);
        Leadership term = ea.awaitLeadership(WAIT).orElseThrow();
        String resource = "/resource/" + election;
        // delete the term's node behind the elector's back: only the server's check can refuse now
        String node = a.curator().getChildren().forPath("/zkr/elections/" + election).get(0);
        b.curator().delete().forPath("/zkr/elections/" + election + "/" + node);

        assertThatThrownBy(() -> a.curator().transaction().forOperations(term.guard(),
                a.curator().transactionOp().create().forPath(resource)))
                .isInstanceOf(org.apache.zookeeper.KeeperException.NoNodeException.class);
        assertThat(a.curator().checkExists().forPath(resource)).isNull();
    }

    @Test
    void leaderWhoseNodeIsDeletedStepsDownAndRejoins() throws Exception {
        RecordingListener la = new RecordingListener();
        LeaderElector ea = start(a, "a", la);
        Leadership term = ea.awaitLeadership(WAIT).orElseThrow();
        String node = a.curator().getChildren().forPath("/zkr/elections/" + election).get(0);

        b.curator().delete().forPath("/zkr/elections/" + election + "/" + node);

        la.awaitEvent(RevocationReason.NODE_DELETED, WAIT);
        assertThat(term.isValid()).isFalse();
        Leadership next = ea.awaitLeadership(WAIT).orElseThrow();
        assertThat(next.token()).isGreaterThan(term.token());
    }

    @Test
    void tokensKeepIncreasingWhenTheElectionNodeIsReapedAndRecreated() throws Exception {
        LeaderElector first = start(a, "a", null);
        FencingToken before = first.awaitLeadership(WAIT).orElseThrow().token();
        first.close();
        // what the container reaper does to an empty election node; the sequence restarts at 0
        a.curator().delete().forPath("/zkr/elections/" + election);

        LeaderElector second = start(b, "b", null);
        FencingToken after = second.awaitLeadership(WAIT).orElseThrow().token();

        String node = b.curator().getChildren().forPath("/zkr/elections/" + election).get(0);
        assertThat(node).endsWith("0000000000");
        assertThat(after).isGreaterThan(before);
    }

    @Test
    void listenerThatThrowsDoesNotBreakTheElector() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        LeadershipListener throwing = new LeadershipListener() {
            @Override
            public void elected(Leadership leadership) {
                calls.incrementAndGet();
                throw new IllegalStateException("listener bug");
            }

            @Override
            public void revoked(Leadership leadership, RevocationReason reason) {
                calls.incrementAndGet();
                throw new IllegalStateException("listener bug");
            }
        };
        LeaderElector ea = start(a, "a", throwing);
        ea.awaitLeadership(WAIT).orElseThrow();
        ea.resign();
        ea.awaitLeadership(WAIT).orElseThrow();

        await().atMost(WAIT).until(() -> calls.get() == 3);
        assertThat(ea.isLeader()).isTrue();
    }

    @Test
    void callbacksRunOffTheZooKeeperEventThread() throws Exception {
        List<String> threads = new CopyOnWriteArrayList<>();
        LeaderElector ea = start(a, "a", new LeadershipListener() {
            @Override
            public void elected(Leadership leadership) {
                threads.add(Thread.currentThread().getName());
            }

            @Override
            public void revoked(Leadership leadership, RevocationReason reason) {
                threads.add(Thread.currentThread().getName());
            }
        });
        ea.awaitLeadership(WAIT).orElseThrow();
        ea.close();
        await().atMost(WAIT).until(() -> threads.size() == 2);
        assertThat(threads).allSatisfy(t -> assertThat(t).matches("zkr-election-.*-listener-\\d+"));
        assertThat(threads.get(0)).isEqualTo(threads.get(1));
    }

    @Test
    void closeDeletesTheNodeIsIdempotentAndUseAfterCloseFails() throws Exception {
        LeaderElector ea = start(a, "a", null);
        ea.awaitLeadership(WAIT).orElseThrow();

        ea.close();
        ea.close();

        assertThat(a.curator().getChildren().forPath("/zkr/elections/" + election)).isEmpty();
        assertThatThrownBy(ea::resign).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        assertThatThrownBy(ea::start).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(ea::participants).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void badInputFailsBeforeAnythingIsWritten() throws Exception {
        byte[] tooLarge = new byte[a.maxPayloadBytes() + 1];
        assertThatThrownBy(() -> LeaderElector.builder(a, "bad//name")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'bad//name'");
        assertThatThrownBy(() -> LeaderElector.builder(a, "../up")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> LeaderElector.builder(a, "ctl\u0001")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> LeaderElector.builder(a, election).participantId(null))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("participantId");
        assertThatThrownBy(() -> LeaderElector.builder(a, election).participantId(""))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> LeaderElector.builder(a, election).data(tooLarge).build())
                .isInstanceOf(PayloadTooLargeException.class);

        assertThat(a.curator().checkExists().forPath("/zkr/elections/" + election)).isNull();
        assertThat(a.curator().checkExists().forPath("/zkr/elections/bad")).isNull();
    }
}
