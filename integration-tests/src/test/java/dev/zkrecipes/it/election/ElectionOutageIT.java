package dev.zkrecipes.it.election;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.zkrecipes.core.LeadershipLostException;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.election.LeaderElector;
import dev.zkrecipes.election.Leadership;
import dev.zkrecipes.election.RevocationReason;
import dev.zkrecipes.testing.Clients;
import dev.zkrecipes.testing.OverlapChecker;
import dev.zkrecipes.testing.ZkServers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * The election while the (single) server is down: longer than the session, so that every client
 * gives its session up and the restarted server restores the old sessions and their nodes for a
 * while; and the timed calls while nothing answers. Each test has its own server, which it stops
 * and restarts on the same port and data.
 */
class ElectionOutageIT {

    private static final Duration WAIT = Duration.ofSeconds(15);

    private TestingServer server;
    private String election;
    private final List<AutoCloseable> toClose = new ArrayList<>();

    /** One participant on its own client, with the connection states its client went through. */
    private final class Member {
        final String id;
        final ZkRecipes zk;
        final List<ConnectionState> states = new CopyOnWriteArrayList<>();
        final RecordingListener listener = new RecordingListener();
        final LeaderElector elector;

        Member(String id, Duration session, Duration connectionTimeout) {
            this.id = id;
            this.zk = connect(server.getConnectString(), session, connectionTimeout);
            toClose.add(zk);
            zk.curator().getConnectionStateListenable().addListener((client, state) -> states.add(state));
            this.elector = LeaderElector.builder(zk, election).participantId(id).listener(listener).build();
            toClose.add(elector);
            elector.start();
        }

        @Override
        public String toString() {
            return id;
        }
    }

    @BeforeEach
    void startServer(TestInfo info) {
        election = "outage/" + info.getTestMethod().orElseThrow().getName();
        server = ZkServers.startServer();
    }

    @AfterEach
    void closeAll() {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            ZkServers.closeQuietly(toClose.get(i));
        }
        ZkServers.closeQuietly(server);
    }

    private static ZkRecipes connect(String connectString, Duration session, Duration connectionTimeout) {
        return Clients.connect(connectString, session, connectionTimeout);
    }

    /** Starts members in order, each once the one before is in line, so the first leads. */
    private List<Member> line(Duration session, Duration connectionTimeout, String... ids) throws InterruptedException {
        List<Member> members = new ArrayList<>();
        for (String id : ids) {
            Member m = new Member(id, session, connectionTimeout);
            members.add(m);
            if (members.size() == 1) {
                m.elector.awaitLeadership(WAIT).orElseThrow();
            }
            await().atMost(WAIT).until(() -> m.elector.participants().size() == members.size());
        }
        return members;
    }

    private static List<Member> leaders(List<Member> members) {
        return members.stream().filter(m -> m.elector.isLeader()).toList();
    }

    private static long millisSince(long startNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }

    @Test
    void serverDownLongerThanTheSessionNeverGivesTwoLeaders() throws Exception {
        Duration session = Duration.ofSeconds(3);
        List<Member> members = line(session, session, "a", "b", "c");
        Member a = members.get(0);
        String resource = "/resource/" + election;
        a.zk.curator().create().creatingParentsIfNeeded().forPath(resource, new byte[0]);
        Leadership oldTerm = a.elector.awaitLeadership(WAIT).orElseThrow();
        oldTerm.commit(a.zk.ops().setData(resource, "a before".getBytes(UTF_8)));
        Map<String, BooleanSupplier> isLeader = new LinkedHashMap<>();
        members.forEach(m -> isLeader.put(m.id, m.elector::isLeader));

        OverlapChecker checker = new OverlapChecker(isLeader);
        try {
            server.stop();
            // every client gives its session up; the old leader's term is over for good
            await().atMost(WAIT).until(() -> members.stream().allMatch(m -> m.states.contains(ConnectionState.LOST)));
            assertThat(a.listener.awaitEvent(RevocationReason.SESSION_EXPIRED, WAIT).token()).isEqualTo(oldTerm.token().value());
            assertThat(leaders(members)).isEmpty();

            // the server comes back with the old sessions and their nodes, and expires them later
            server.restart();

            await().atMost(WAIT).until(() -> leaders(members).size() == 1);
            Member leader = leaders(members).get(0);
            Leadership newTerm = leader.elector.awaitLeadership(WAIT).orElseThrow();
            assertThat(newTerm.token()).isGreaterThan(oldTerm.token());
            newTerm.commit(leader.zk.ops().setData(resource, (leader.id + " after").getBytes(UTF_8)));
            assertThat(new String(leader.zk.curator().getData().forPath(resource), UTF_8)).isEqualTo(leader.id + " after");

            // stays so past the moment the server expires the restored sessions
            await().during(session.plusSeconds(1)).atMost(WAIT)
                    .until(() -> leaders(members).equals(List.of(leader)) && newTerm.isValid());
            await().atMost(WAIT).until(() -> leader.elector.participants().size() == 3
                    && leader.zk.curator().getChildren().forPath(ZkRecipes.ROOT + "/elections/" + election).size() == 3);
        } finally {
            checker.close();
        }
        assertThat(checker.samples()).as("samples taken by the checker").isGreaterThan(500);
        assertThat(checker.overlaps()).as("moments with two valid leaders").isEmpty();
        assertThatThrownBy(() -> oldTerm.commit(a.zk.ops().setData(resource, "stale a".getBytes(UTF_8))))
                .isInstanceOf(LeadershipLostException.class);
        for (Member m : members) {
            // each term ends once, and only the old leader's term ended at all
            assertThat(m.listener.events().stream().filter(e -> !e.isElected()
                    && e.reason() != RevocationReason.CONNECTION_SUSPENDED).toList())
                    .as("final revocations of " + m).hasSize(m == a ? 1 : 0);
        }
    }

    @Test
    void timedCallsReturnWithinTheirBoundWhileTheServerIsDown() throws Exception {
        Duration session = Duration.ofSeconds(4);
        Duration connectionTimeout = Duration.ofSeconds(1);
        long bound = connectionTimeout.plusSeconds(1).toMillis();
        List<Member> members = line(session, connectionTimeout, "a", "b");
        Member a = members.get(0);
        Member b = members.get(1);
        Leadership term = a.elector.awaitLeadership(WAIT).orElseThrow();

        server.stop();
        await().atMost(WAIT).until(() -> a.states.contains(ConnectionState.SUSPENDED)
                && b.states.contains(ConnectionState.SUSPENDED));
        a.listener.awaitEvent(RevocationReason.CONNECTION_SUSPENDED, WAIT);

        // suspended, the session not yet given up: the term still exists, suspended
        for (Member m : members) {
            long start = System.nanoTime();
            Optional<Leadership> led = m.elector.awaitLeadership(Duration.ofMillis(300));
            long took = millisSince(start);
            assertThat(led).as(m + " awaitLeadership while the server is down").isEmpty();
            assertThat(took).as(m + " awaitLeadership(300 ms), ms").isBetween(290L, 1000L);
        }
        long resignStart = System.nanoTime();
        a.elector.resign();
        assertThat(millisSince(resignStart)).as("resign() while the server is down, ms").isLessThanOrEqualTo(bound);
        assertThat(term.isValid()).isFalse();
        assertThat(a.listener.first(RevocationReason.RESIGNED).orElseThrow().token()).isEqualTo(term.token().value());

        // past the session: the clients give their sessions up; closing is still bounded
        await().atMost(WAIT).until(() -> a.states.contains(ConnectionState.LOST) && b.states.contains(ConnectionState.LOST));
        for (Member m : List.of(b, a)) {
            long start = System.nanoTime();
            m.elector.close();
            assertThat(millisSince(start)).as(m + " close() while the server is down, ms").isLessThanOrEqualTo(bound);
        }

        // once the server is back, nothing of the closed participants is left
        server.restart();
        String electionPath = ZkRecipes.ROOT + "/elections/" + election;
        await().atMost(WAIT).until(() -> a.zk.curator().checkExists().forPath(electionPath) == null
                || a.zk.curator().getChildren().forPath(electionPath).isEmpty());
    }
}
