package dev.zkrecipes.it.election;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.zkrecipes.core.LeadershipLostException;
import dev.zkrecipes.core.ZkRecipeException;
import dev.zkrecipes.election.Leadership;
import dev.zkrecipes.testing.TokenHistory;
import dev.zkrecipes.testing.EmbeddedZk;
import dev.zkrecipes.testing.LoopbackProxy.Opcodes;
import dev.zkrecipes.testing.Operator;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The safety property of the election under repeated random faults: every leader writes its token
 * to a shared znode through its term's guarded commit; the tokens that land never go down, so no
 * write from a superseded term lands. Also the negative control: the checker catches an unfenced
 * stale write.
 */
class ElectionSafetyIT {

    @RegisterExtension
    static final EmbeddedZk zk = EmbeddedZk.server();

    private static final Duration SESSION = Duration.ofSeconds(2);
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final int CANDIDATES = 4;
    private static final int ROUNDS = 12;
    private static final int FAULTS = 9;

    private static byte[] bytes(long token) {
        return ByteBuffer.allocate(8).putLong(token).array();
    }

    /** Writes {@code token} under {@code term}'s guard and records where it landed. */
    private static void fencedWrite(CuratorFramework curator, Leadership term, String resource, TokenHistory history)
            throws Exception {
        List<CuratorTransactionResult> results = term.commit(
                curator.transactionOp().setData().forPath(resource, bytes(term.token().value())));
        history.landed(results.get(results.size() - 1).getResultStat().getVersion(), term.token().value());
    }

    @Test
    void tokensThatLandNeverGoDownUnderRandomAmbiguousFaults() throws Exception {
        long seed = Long.getLong("zkr.seed", System.nanoTime());
        System.out.println("ElectionSafetyIT seed=" + seed + " (rerun with -Dzkr.seed=" + seed + ")");
        Random random = new Random(seed);
        String election = "safety";
        String resource = "/resource/" + election;
        TokenHistory history = new TokenHistory();
        AtomicInteger rejected = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        List<ProxiedParticipant> line = new CopyOnWriteArrayList<>();
        List<Thread> writers = new ArrayList<>();
        AtomicInteger nextId = new AtomicInteger();
        int termsEnded = 0;

        Runnable addParticipant = () -> {
            ProxiedParticipant p = new ProxiedParticipant(zk.connectString(), zk.port(), election,
                    "p" + nextId.getAndIncrement(), SESSION);
            line.add(p);
            Thread writer = new Thread(() -> writeWhileLeading(p, resource, history, rejected, stop), "writer-" + p.id);
            writer.setDaemon(true);
            writer.start();
            writers.add(writer);
        };
        try {
            for (int i = 0; i < CANDIDATES; i++) {
                addParticipant.run();
            }
            line.get(0).zk.curator().create().creatingParentsIfNeeded().forPath(resource, bytes(0));

            List<Integer> schedule = faultSchedule(random);
            for (int round = 0; round < ROUNDS; round++) {
                int writesBefore = history.size();
                ProxiedParticipant victim = line.get(random.nextInt(line.size()));
                Optional<ProxiedParticipant> current = line.stream().filter(p -> p.elector.isLeader()).findFirst();
                ProxiedParticipant leader = current.orElse(victim);
                int fault = schedule.get(round);
                if (current.isPresent() && (fault == 0 || fault == 2)) {
                    termsEnded++;
                }
                System.out.println("ElectionSafetyIT round " + round + ": fault " + fault + " (leader " + leader + ", victim "
                        + victim + ")");
                switch (fault) {
                    case 0 -> leader.expireSession();
                    case 1 -> {
                        leader.proxy.blackhole();
                        await().pollDelay(SESSION.plusMillis(500)).atMost(WAIT).until(() -> true);
                        leader.proxy.heal();
                    }
                    case 2 -> {
                        if (leader.elector.isLeader()) {
                            leader.elector.resign();
                        }
                    }
                    case 3 -> {
                        line.remove(victim);
                        victim.close();
                        addParticipant.run();
                    }
                    case 4 -> victim.proxy.loseReplies(1 + random.nextInt(3), Opcodes.WRITES);
                    case 5 -> leader.proxy.loseNextReply(Opcodes.MULTI);
                    case 6 -> Operator.deleteFirstInLine(victim.zk.curator(), "/zkr/elections/" + election);
                    case 7 -> Operator.outage(zk.testingServer(), SESSION.plusMillis(1500));
                    default -> victim.proxy.cut();
                }
                // progress: some leader is elected and lands writes after each fault
                await().atMost(WAIT).until(() -> history.size() > writesBefore + 2);
            }
        } finally {
            stop.set(true);
            for (Thread w : writers) {
                w.join(5000);
            }
            line.forEach(ProxiedParticipant::close);
        }
        System.out.println("ElectionSafetyIT: " + history.size() + " writes landed under " + history.distinctTokens().size()
                + " terms, " + rejected.get() + " stale writes refused");
        assertThat(history.violations()).isEmpty();
        List<Long> tokens = history.distinctTokens();
        assertThat(tokens).isSorted().doesNotHaveDuplicates();
        // every expiry or resignation of a sitting leader is followed by writes of a newer term
        assertThat(tokens.size()).isGreaterThanOrEqualTo(termsEnded).isGreaterThan(1);
    }

    /** Every fault once, in random order, then random ones: each run exercises all of them. */
    private static List<Integer> faultSchedule(Random random) {
        List<Integer> schedule = new ArrayList<>();
        for (int fault = 0; fault < FAULTS; fault++) {
            schedule.add(fault);
        }
        Collections.shuffle(schedule, random);
        while (schedule.size() < ROUNDS) {
            schedule.add(random.nextInt(FAULTS));
        }
        return schedule;
    }

    /**
     * A leader's loop: while it leads, write through the term's guarded commit. After the term is
     * revoked, also try once more with the stale term's raw guard, as a process waking from a pause
     * would: the server must refuse it once a newer term exists.
     */
    private static void writeWhileLeading(ProxiedParticipant p, String resource, TokenHistory history,
            AtomicInteger rejected, AtomicBoolean stop) {
        CuratorFramework curator = p.zk.curator();
        Leadership last = null;
        while (!stop.get()) {
            try {
                Optional<Leadership> term = p.elector.awaitLeadership(Duration.ofMillis(100));
                if (term.isPresent()) {
                    last = term.get();
                    fencedWrite(curator, last, resource, history);
                } else if (last != null) {
                    Leadership stale = last;
                    last = null;
                    List<CuratorTransactionResult> results = curator.transaction().forOperations(stale.guard(),
                            curator.transactionOp().setData().forPath(resource, bytes(stale.token().value())));
                    // the node still exists: nobody else can have been elected, so this write is safe
                    history.landed(results.get(1).getResultStat().getVersion(), stale.token().value());
                }
                await().pollDelay(Duration.ofMillis(20)).atMost(Duration.ofSeconds(1)).until(() -> true);
            } catch (LeadershipLostException | KeeperException.NoNodeException e) {
                rejected.incrementAndGet();
            } catch (IllegalStateException closed) {
                return;
            } catch (ZkRecipeException | KeeperException e) {
                // connection trouble during a fault: try again
            } catch (Exception e) {
                if (stop.get()) {
                    return;
                }
            }
        }
    }

    @Test
    void checkerCatchesAStaleUnfencedWriteAndTheGuardRefusesIt() throws Exception {
        String election = "control";
        String resource = "/resource/" + election;
        TokenHistory history = new TokenHistory();
        try (ProxiedParticipant a = new ProxiedParticipant(zk.connectString(), zk.port(), election, "a", SESSION)) {
            Leadership oldTerm = a.elector.awaitLeadership(WAIT).orElseThrow();
            try (ProxiedParticipant b = new ProxiedParticipant(zk.connectString(), zk.port(), election, "b", SESSION)) {
                staleWriteControl(a, b, oldTerm, resource, history);
            }
        }
    }

    private static void staleWriteControl(ProxiedParticipant a, ProxiedParticipant b, Leadership oldTerm, String resource,
            TokenHistory history) throws Exception {
        CuratorFramework ca = a.zk.curator();
        CuratorFramework cb = b.zk.curator();
        ca.create().creatingParentsIfNeeded().forPath(resource, bytes(0));
        fencedWrite(ca, oldTerm, resource, history);

        // a is partitioned; the ensemble expires it and b takes over and writes
        a.proxy.blackhole();
        Leadership newTerm = b.elector.awaitLeadership(WAIT).orElseThrow();
        fencedWrite(cb, newTerm, resource, history);
        a.proxy.heal();
        a.listener.awaitEvent(dev.zkrecipes.election.RevocationReason.SESSION_EXPIRED, WAIT);

        // the stale leader's fenced write is refused, and the history stays clean
        assertThatThrownBy(() -> fencedWrite(ca, oldTerm, resource, history)).isInstanceOf(LeadershipLostException.class);
        assertThatThrownBy(() -> ca.transaction().forOperations(oldTerm.guard(),
                ca.transactionOp().setData().forPath(resource, bytes(oldTerm.token().value()))))
                .isInstanceOf(KeeperException.NoNodeException.class);
        assertThat(history.violations()).isEmpty();

        // without the fence, the same stale write lands, and the checker reports it
        Stat stat = ca.setData().forPath(resource, bytes(oldTerm.token().value()));
        history.landed(stat.getVersion(), oldTerm.token().value());
        assertThat(history.violations()).hasSize(1).first().asString().contains("token " + oldTerm.token());
    }
}
