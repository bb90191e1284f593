package dev.zkrecipes.it.election;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.zkrecipes.core.LeadershipLostException;
import dev.zkrecipes.election.Leadership;
import dev.zkrecipes.election.Participant;
import dev.zkrecipes.election.RevocationReason;
import dev.zkrecipes.it.election.RecordingListener.Event;
import dev.zkrecipes.testing.EmbeddedZk;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.TestInfo;

/** The election under faults on one real server: session expiry, connection cut, blackhole. */
class ElectionFaultIT {

    @RegisterExtension
    static final EmbeddedZk zk = EmbeddedZk.server();

    private static final Duration WAIT = Duration.ofSeconds(20);

    private final List<ProxiedParticipant> participants = new ArrayList<>();
    private String election;

    @BeforeEach
    void name(TestInfo info) {
        election = "fault/" + info.getTestMethod().orElseThrow().getName();
    }

    @AfterEach
    void closeAll() {
        participants.forEach(ProxiedParticipant::close);
    }

    /** Starts participants a, b, c in that order (so a leads) and waits until all three are in line. */
    private List<ProxiedParticipant> threeInLine(Duration session) throws InterruptedException {
        for (String id : List.of("a", "b", "c")) {
            ProxiedParticipant p = new ProxiedParticipant(zk.connectString(), zk.port(), election, id, session);
            participants.add(p);
            if (id.equals("a")) {
                p.elector.awaitLeadership(WAIT).orElseThrow();
            }
            await().atMost(WAIT).until(() -> p.elector.participants().size() == participants.size());
        }
        return participants;
    }

    private static List<String> nodeNames(CuratorFramework curator, String election) throws Exception {
        return curator.getChildren().forPath("/zkr/elections/" + election);
    }

    @Test
    void serverSideSessionExpiryOfLeaderElectsExactlyOneNewLeaderAndOldOneRejoins() throws Exception {
        List<ProxiedParticipant> line = threeInLine(Duration.ofSeconds(3));
        ProxiedParticipant a = line.get(0);
        ProxiedParticipant b = line.get(1);
        ProxiedParticipant c = line.get(2);
        Leadership oldTerm = a.elector.awaitLeadership(WAIT).orElseThrow();

        a.expireSession();

        Leadership newTerm = b.elector.awaitLeadership(WAIT).orElseThrow();
        assertThat(newTerm.token()).isGreaterThan(oldTerm.token());
        assertThat(a.listener.awaitEvent(RevocationReason.SESSION_EXPIRED, WAIT).token()).isEqualTo(oldTerm.token().value());
        assertThatThrownBy(() -> oldTerm.commit()).isInstanceOf(LeadershipLostException.class);
        await().atMost(WAIT).until(() -> b.elector.participants().size() == 3);
        assertThat(b.elector.participants()).extracting(Participant::id).containsExactly("b", "c", "a");
        assertThat(line).filteredOn(p -> p.elector.isLeader()).containsExactly(b);
        assertThat(c.listener.electedCount()).isZero();
    }

    @Test
    void connectionCutShorterThanSessionResumesTheSameTermWithoutHandOff() throws Exception {
        List<ProxiedParticipant> line = threeInLine(Duration.ofSeconds(4));
        ProxiedParticipant a = line.get(0);
        Leadership term = a.elector.awaitLeadership(WAIT).orElseThrow();
        List<String> nodesBefore = nodeNames(a.zk.curator(), election);

        a.proxy.cut();

        a.listener.awaitEvent(RevocationReason.CONNECTION_SUSPENDED, WAIT);
        Event resumed = a.listener.awaitElected(2, WAIT);
        assertThat(resumed.token()).isEqualTo(term.token().value());
        assertThat(term.isValid()).isTrue();
        assertThat(a.listener.events()).extracting(Event::toString).containsExactly(
                "elected@" + term.token(), "revoked:CONNECTION_SUSPENDED@" + term.token(), "elected@" + term.token());
        assertThat(line.get(1).listener.electedCount()).isZero();
        assertThat(line.get(2).listener.electedCount()).isZero();
        assertThat(nodeNames(a.zk.curator(), election)).containsExactlyInAnyOrderElementsOf(nodesBefore);
    }

    @Test
    void blackholeShorterThanSessionResumesTheSameTermWithoutHandOff() throws Exception {
        // 6 s session: the client gives up on the connection after about 4 s, the server would
        // expire it at 6 s; heal in between.
        List<ProxiedParticipant> line = threeInLine(Duration.ofSeconds(6));
        ProxiedParticipant a = line.get(0);
        Leadership term = a.elector.awaitLeadership(WAIT).orElseThrow();

        a.proxy.blackhole();
        a.listener.awaitEvent(RevocationReason.CONNECTION_SUSPENDED, WAIT);
        assertThat(term.isValid()).isFalse();
        a.proxy.heal();

        Event resumed = a.listener.awaitElected(2, WAIT);
        assertThat(resumed.token()).isEqualTo(term.token().value());
        assertThat(a.elector.isLeader()).isTrue();
        assertThat(line.get(1).listener.electedCount()).isZero();
        assertThat(line.get(2).listener.electedCount()).isZero();
        assertThat(a.listener.first(RevocationReason.SESSION_EXPIRED)).isEmpty();
    }

    @Test
    void longBlackholeSuspendsOldLeaderBeforeNewLeaderIsElectedAndOldTermIsRejected() throws Exception {
        List<ProxiedParticipant> line = threeInLine(Duration.ofSeconds(3));
        ProxiedParticipant a = line.get(0);
        ProxiedParticipant b = line.get(1);
        Leadership oldTerm = a.elector.awaitLeadership(WAIT).orElseThrow();
        String resource = "/resource/" + election;
        b.zk.curator().create().creatingParentsIfNeeded().forPath(resource, new byte[0]);

        a.proxy.blackhole();

        Event newLeader = b.listener.awaitElected(1, WAIT);
        Event suspended = a.listener.first(RevocationReason.CONNECTION_SUSPENDED).orElseThrow();
        assertThat(suspended.nanos()).isLessThan(newLeader.nanos());
        assertThat(a.elector.isLeader()).isFalse();
        // the old term's guard is refused by the server itself, whoever sends it
        assertThatThrownBy(() -> b.zk.curator().transaction().forOperations(oldTerm.guard(),
                b.zk.curator().transactionOp().setData().forPath(resource, "stale".getBytes(UTF_8))))
                .isInstanceOf(KeeperException.NoNodeException.class);

        a.proxy.heal();
        a.listener.awaitEvent(RevocationReason.SESSION_EXPIRED, WAIT);
        assertThatThrownBy(() -> oldTerm.commit(a.zk.curator().transactionOp().setData().forPath(resource, "stale".getBytes(UTF_8))))
                .isInstanceOf(LeadershipLostException.class);
        assertThat(b.zk.curator().getData().forPath(resource)).isEmpty();
        await().atMost(WAIT).until(() -> b.elector.participants().size() == 3);
        assertThat(b.elector.participants().get(2).id()).isEqualTo("a");
        assertThat(line).filteredOn(p -> p.elector.isLeader()).containsExactly(b);
    }
}
