package dev.zkrecipes.it.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.election.LeaderElector;
import dev.zkrecipes.election.Leadership;
import dev.zkrecipes.election.LeadershipListener;
import dev.zkrecipes.election.Participant;
import dev.zkrecipes.election.RevocationReason;
import dev.zkrecipes.testing.Clients;
import dev.zkrecipes.testing.EmbeddedZk;
import dev.zkrecipes.testing.ProxiedClient;
import dev.zkrecipes.testing.ZkServers;
import java.lang.reflect.Field;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.imps.CuratorFrameworkState;
import org.apache.curator.retry.RetryOneTime;
import org.assertj.core.api.SoftAssertions;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Closing a client races everything else and still never shows two valid leaders: its electors'
 * terms end before its session does, with the closeSession held in flight, while suspended, with
 * a user closing electors and listeners closing or resigning from their callbacks at the same
 * time, with a user's close paused just before it ends its term, and for electors built through a
 * wrapper of the client's own Curator. The last two found real overlaps (fixed: an elector leaves
 * its client's list only after its term ended; a wrapper ends its terms when its Curator closes).
 * The paused close holds the elector's internal monitor through reflection, standing in for a
 * thread paused at that point.
 */
class ClientCloseRacesIT {

    @RegisterExtension
    static final EmbeddedZk zk = EmbeddedZk.server();

    private static final Duration WAIT = Duration.ofSeconds(10);

    /** Records one elector's callbacks, in order; optional hooks run inside them. */
    static final class Recorder implements LeadershipListener {
        final List<String> events = new CopyOnWriteArrayList<>();
        final List<RevocationReason> revoked = new CopyOnWriteArrayList<>();
        final AtomicInteger elected = new AtomicInteger();
        volatile Consumer<Leadership> onElected = t -> { };
        volatile Consumer<RevocationReason> onRevoked = r -> { };

        @Override
        public void elected(Leadership term) {
            onElected.accept(term);
            events.add("elected " + term.token());
            elected.incrementAndGet();
        }

        @Override
        public void revoked(Leadership term, RevocationReason reason) {
            events.add("revoked " + reason + " " + term.token());
            revoked.add(reason);
            onRevoked.accept(reason);
        }
    }

    /** A successor's listener that notes it was told while {@code oldStillLeads} said true. */
    private static Recorder successor(List<String> overlaps, String what, BooleanSupplier oldStillLeads) {
        Recorder r = new Recorder();
        r.onElected = term -> {
            if (oldStillLeads.getAsBoolean()) {
                overlaps.add(term.participantId() + " elected while " + what + " still led");
            }
        };
        return r;
    }

    private static LeaderElector elector(ZkRecipes client, String election, String id, Recorder listener) {
        return LeaderElector.builder(client, election).participantId(id).listener(listener).build();
    }

    private static void awaitLine(LeaderElector anyone, int size) {
        await().atMost(WAIT).until(() -> anyone.participants().size() == size);
    }

    /** awaitLeadership on its own thread, once that thread is seen waiting inside it. */
    private static FutureTask<Optional<Leadership>> waiting(LeaderElector e) {
        FutureTask<Optional<Leadership>> task = new FutureTask<>(() -> e.awaitLeadership(Duration.ofSeconds(20)));
        Thread t = new Thread(task, "review-waiter-" + e.participantId());
        t.setDaemon(true);
        t.start();
        await().atMost(WAIT).until(() -> t.getState() == Thread.State.TIMED_WAITING
                && Arrays.stream(t.getStackTrace()).anyMatch(f -> f.getMethodName().equals("awaitLeadership")));
        return task;
    }

    private static Thread closing(ZkRecipes client, List<Throwable> escaped) {
        Thread t = new Thread(() -> {
            try {
                client.close();
            } catch (Throwable e) {
                escaped.add(e);
            }
        }, "review-client-close");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static boolean within(Duration d, BooleanSupplier condition) {
        try {
            await().atMost(d).until(condition::getAsBoolean);
            return true;
        } catch (ConditionTimeoutException e) {
            return false;
        }
    }

    /**
     * The closeSession is held in the proxy: the terms of the closing client must already be over
     * (revoked CLOSED, invalid), a waiter must already have its empty answer, and a participant
     * whose create is in flight must never lead; only once the session's end is let through is
     * the successor elected.
     */
    @Test
    void termsEndAndWaitersReturnWhileTheSessionCloseIsStillOnItsWay() throws Exception {
        String name = "review/held-close";
        ProxiedClient a = zk.proxiedClient(Duration.ofSeconds(15));
        ZkRecipes b = Clients.connect(zk.connectString());
        try {
            Recorder r1 = new Recorder();
            Recorder r2 = new Recorder();
            Recorder r3 = new Recorder();
            LeaderElector a1 = elector(a.zk(), name, "a1", r1);
            a1.start();
            Leadership oldTerm = a1.awaitLeadership(WAIT).orElseThrow();
            LeaderElector a2 = elector(a.zk(), name, "a2", r2);
            a2.start();
            awaitLine(a1, 2);
            LeaderElector a3 = elector(a.zk(), name, "a3", r3);
            List<String> overlaps = new CopyOnWriteArrayList<>();
            Recorder rb = successor(overlaps, "a1/a2/a3",
                    () -> a1.isLeader() || oldTerm.isValid() || a2.isLeader() || a3.isLeader());
            LeaderElector b1 = elector(b, name, "b1", rb);
            b1.start();
            awaitLine(b1, 3);

            // a3 joins with its create held in the proxy (mid-join), and so is all that follows
            a.proxy().stallRequests();
            a3.start();
            assertThat(a.proxy().awaitStalledRequest(WAIT)).isTrue();
            FutureTask<Optional<Leadership>> waiter = waiting(a2);

            List<Throwable> escaped = new CopyOnWriteArrayList<>();
            Thread closer = closing(a.zk(), escaped);

            await().atMost(Duration.ofSeconds(2)).until(waiter::isDone);
            assertThat(waiter.get()).as("a waiter on the closing client").isEmpty();
            await().atMost(Duration.ofSeconds(2)).until(() -> r1.revoked.contains(RevocationReason.CLOSED));
            assertThat(closer.isAlive()).as("close() still waits for its held closeSession").isTrue();
            assertThat(a1.isLeader()).isFalse();
            assertThat(oldTerm.isValid()).isFalse();
            assertThat(rb.elected).as("nobody elected while the session still holds its nodes").hasValue(0);

            a.proxy().releaseRequests();
            await().atMost(WAIT).until(() -> rb.elected.get() == 1);
            closer.join(WAIT.toMillis());
            assertThat(closer.isAlive()).isFalse();
            assertThat(escaped).isEmpty();
            assertThat(overlaps).isEmpty();
            assertThat(r1.revoked).containsExactly(RevocationReason.CLOSED);
            assertThat(r1.events).hasSize(2);
            assertThat(r1.events.get(0)).startsWith("elected");
            assertThat(r2.events).isEmpty();
            assertThat(r3.events).as("a participant mid-join when its client closed").isEmpty();
            assertThat(b1.participants()).extracting(Participant::id).containsExactly("b1");
            b1.close();
        } finally {
            ZkServers.closeQuietly(b);
            a.close();
        }
    }

    /**
     * A suspended leader's client closes while it cannot reach the ensemble: the closeSession
     * cannot be sent, so the nodes stay until the session expires. The term must still end
     * (CLOSED after CONNECTION_SUSPENDED), waiters return at once, and the successor comes with
     * the session's expiry, never while the old term is valid.
     */
    @Test
    void closingWhileSuspendedEndsTheTermAndTheSuccessorComesWithTheSessionsExpiry() throws Exception {
        String name = "review/suspended-close";
        ProxiedClient a = zk.proxiedClient(Duration.ofSeconds(2));
        ZkRecipes b = Clients.connect(zk.connectString());
        try {
            Recorder r1 = new Recorder();
            LeaderElector a1 = elector(a.zk(), name, "a1", r1);
            a1.start();
            Leadership oldTerm = a1.awaitLeadership(WAIT).orElseThrow();
            LeaderElector a2 = elector(a.zk(), name, "a2", new Recorder());
            a2.start();
            awaitLine(a1, 2);
            List<String> overlaps = new CopyOnWriteArrayList<>();
            Recorder rb = successor(overlaps, "a1", () -> a1.isLeader() || oldTerm.isValid() || a2.isLeader());
            LeaderElector b1 = elector(b, name, "b1", rb);
            b1.start();
            awaitLine(b1, 3);

            a.proxy().blackhole();
            await().atMost(WAIT).until(() -> r1.revoked.contains(RevocationReason.CONNECTION_SUSPENDED));
            FutureTask<Optional<Leadership>> waiter = waiting(a2);
            List<Throwable> escaped = new CopyOnWriteArrayList<>();
            Thread closer = closing(a.zk(), escaped);

            await().atMost(Duration.ofSeconds(1)).until(waiter::isDone);
            assertThat(waiter.get()).isEmpty();
            await().atMost(Duration.ofSeconds(1)).until(() -> r1.revoked.contains(RevocationReason.CLOSED));
            closer.join(8_000);
            assertThat(closer.isAlive()).as("close() of an unreachable client returns").isFalse();
            assertThat(escaped).isEmpty();

            await().atMost(WAIT).until(() -> rb.elected.get() == 1);
            assertThat(overlaps).isEmpty();
            assertThat(r1.revoked).containsExactly(RevocationReason.CONNECTION_SUSPENDED, RevocationReason.CLOSED);
            assertThat(a1.isLeader()).isFalse();
            b1.close();
        } finally {
            ZkServers.closeQuietly(b);
            a.close();
        }
    }

    /**
     * A user thread closes the leading client's electors while the client itself closes; their
     * listeners close or resign from revoked(). Every old term ends once, CLOSED, before its
     * successor is elected; nothing escapes; nothing hangs.
     */
    @Test
    void userClosesAndReentrantListenersRacingTheClientsClose() throws Exception {
        int n = 40;
        ZkRecipes a = Clients.connect(zk.connectString(), Duration.ofSeconds(15), Duration.ofSeconds(2));
        ZkRecipes b = Clients.connect(zk.connectString());
        List<LeaderElector> olds = new ArrayList<>();
        List<Leadership> oldTerms = new ArrayList<>();
        List<Recorder> oldRecorders = new ArrayList<>();
        List<LeaderElector> news = new ArrayList<>();
        List<String> overlaps = new CopyOnWriteArrayList<>();
        List<Throwable> escaped = new CopyOnWriteArrayList<>();
        AtomicInteger told = new AtomicInteger();
        try {
            for (int i = 0; i < n; i++) {
                Recorder r = new Recorder();
                LeaderElector e = elector(a, "review/race/e" + i, "old", r);
                int kind = i % 3;
                r.onRevoked = reason -> {
                    try {
                        if (kind == 0) {
                            e.close();
                        } else if (kind == 1) {
                            e.resign();
                        }
                    } catch (IllegalStateException closedAlready) {
                        // resign() after close is refused: documented
                    } catch (Exception other) {
                        escaped.add(other);
                    }
                };
                e.start();
                olds.add(e);
                oldRecorders.add(r);
            }
            for (LeaderElector e : olds) {
                oldTerms.add(e.awaitLeadership(WAIT).orElseThrow());
            }
            for (int i = 0; i < n; i++) {
                LeaderElector old = olds.get(i);
                Leadership oldTerm = oldTerms.get(i);
                Recorder r = successor(overlaps, "e" + i, () -> old.isLeader() || oldTerm.isValid());
                r.onElected = r.onElected.andThen(t -> told.incrementAndGet());
                LeaderElector e = elector(b, "review/race/e" + i, "new", r);
                e.start();
                news.add(e);
            }
            for (LeaderElector e : news) {
                awaitLine(e, 2);
            }

            CountDownLatch go = new CountDownLatch(1);
            AtomicLong slowestUserClose = new AtomicLong();
            Thread user = new Thread(() -> {
                try {
                    go.await();
                    for (int i = 0; i < n; i += 2) {
                        long t0 = System.nanoTime();
                        olds.get(i).close();
                        slowestUserClose.accumulateAndGet(System.nanoTime() - t0, Math::max);
                    }
                } catch (Throwable t) {
                    escaped.add(t);
                }
            }, "review-user-close");
            user.start();
            Thread closer = new Thread(() -> {
                try {
                    go.await();
                    a.close();
                } catch (Throwable t) {
                    escaped.add(t);
                }
            }, "review-client-close");
            closer.start();
            go.countDown();
            user.join(WAIT.toMillis());
            closer.join(WAIT.toMillis());
            assertThat(user.isAlive()).isFalse();
            assertThat(closer.isAlive()).isFalse();

            await().atMost(WAIT).until(() -> told.get() == n);
            assertThat(overlaps).isEmpty();
            assertThat(escaped).isEmpty();
            assertThat(TimeUnit.NANOSECONDS.toMillis(slowestUserClose.get()))
                    .as("a user's close() racing the client's, bounded by the 2 s connection timeout").isLessThan(2_500);
            await().atMost(WAIT).until(() -> oldRecorders.stream().allMatch(r -> r.revoked.size() == 1));
            for (Recorder r : oldRecorders) {
                assertThat(r.revoked).containsExactly(RevocationReason.CLOSED);
                assertThat(r.events).hasSize(2);
                assertThat(r.events.get(0)).startsWith("elected");
            }
            assertThat(olds).noneMatch(LeaderElector::isLeader);
            assertThat(oldTerms).noneMatch(Leadership::isValid);
            for (LeaderElector e : news) {
                e.close();
            }
        } finally {
            ZkServers.closeQuietly(b);
            ZkServers.closeQuietly(a);
        }
    }

    /**
     * LeaderElector.close() takes its registration off the client (ClientRecipes.closed) before its
     * term ends (candidate.close). A user's close() paused between the two -- here held at the
     * candidate's monitor, as a preempted thread would be -- is not among the recipes the client's
     * close ends first, so the client closes its session under a term that is still valid, and the
     * successor is elected meanwhile. Its revoked(CLOSED) then comes after the client's pools are
     * gone.
     */
    @Test
    void aUserCloseThatDeregisteredJustBeforeTheClientClosesStillEndsItsTermFirst() throws Exception {
        String name = "review/dereg-race";
        ZkRecipes a = Clients.connect(zk.connectString(), Duration.ofSeconds(15), Duration.ofSeconds(1));
        ZkRecipes b = Clients.connect(zk.connectString());
        CountDownLatch release = new CountDownLatch(1);
        try {
            Recorder r1 = new Recorder();
            LeaderElector a1 = elector(a, name, "a1", r1);
            a1.start();
            Leadership oldTerm = a1.awaitLeadership(WAIT).orElseThrow();
            List<String> overlaps = new CopyOnWriteArrayList<>();
            // only the term's own validity here: a1.isLeader() would wait for the held monitor
            Recorder rb = successor(overlaps, "a1 (" + oldTerm.token() + ")", oldTerm::isValid);
            LeaderElector b1 = elector(b, name, "b1", rb);
            b1.start();
            awaitLine(b1, 2);

            Field f = LeaderElector.class.getDeclaredField("candidate");
            f.setAccessible(true);
            Object candidate = f.get(a1);
            CountDownLatch held = new CountDownLatch(1);
            Thread holder = new Thread(() -> {
                synchronized (candidate) {
                    held.countDown();
                    try {
                        release.await(10, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }, "review-preemption");
            holder.setDaemon(true);
            holder.start();
            assertThat(held.await(5, TimeUnit.SECONDS)).isTrue();

            Thread user = new Thread(a1::close, "review-user-close");
            user.setDaemon(true);
            user.start();
            await().atMost(WAIT).until(() -> user.getState() == Thread.State.BLOCKED
                    && Arrays.stream(user.getStackTrace()).anyMatch(
                            fr -> fr.getClassName().endsWith(".Candidate") && fr.getMethodName().equals("close")));

            List<Throwable> escaped = new CopyOnWriteArrayList<>();
            Thread closer = closing(a, escaped);
            // the client's close waits for the elector, still closing, to end its term: no successor yet
            boolean electedWhilePaused = within(Duration.ofSeconds(1), () -> rb.elected.get() == 1);
            release.countDown();
            closer.join(WAIT.toMillis());
            boolean successorElected = within(Duration.ofSeconds(5), () -> rb.elected.get() == 1);
            user.join(WAIT.toMillis());
            boolean toldClosed = within(Duration.ofSeconds(3), () -> r1.revoked.contains(RevocationReason.CLOSED));

            SoftAssertions.assertSoftly(soft -> {
                soft.assertThat(closer.isAlive()).isFalse();
                soft.assertThat(escaped).isEmpty();
                soft.assertThat(electedWhilePaused).as("b1 elected while a1's close was paused before ending its term")
                        .isFalse();
                soft.assertThat(successorElected).as("b1 elected after a's session closed").isTrue();
                soft.assertThat(overlaps).as("successors elected while the old term was valid").isEmpty();
                soft.assertThat(toldClosed).as("a1 told revoked(CLOSED); its events: " + r1.events).isTrue();
            });
            b1.close();
        } finally {
            release.countDown();
            ZkServers.closeQuietly(b);
            ZkServers.closeQuietly(a);
        }
    }

    /**
     * Electors built through ZkRecipes.wrap(owned.curator()) stand on the owned client's session
     * but are registered under the wrapper: the owned client's close ends only its own electors'
     * terms before the session. Closed while the network is down (so that no delete of its own
     * node ever reaches it, and Curator, closed, reports no SUSPENDED), such a term stays valid
     * after the session expired and a successor was elected.
     */
    @Test
    void closingAClientEndsTheTermsOfElectorsOnItsSessionBuiltThroughAWrapper() throws Exception {
        String name = "review/wrapped-owned";
        ProxiedClient a = zk.proxiedClient(Duration.ofSeconds(2));
        ZkRecipes wrapper = ZkRecipes.wrap(a.zk().curator());
        ZkRecipes b = Clients.connect(zk.connectString());
        try {
            Recorder r1 = new Recorder();
            LeaderElector w1 = elector(wrapper, name, "w1", r1);
            w1.start();
            Leadership oldTerm = w1.awaitLeadership(WAIT).orElseThrow();
            List<String> overlaps = new CopyOnWriteArrayList<>();
            Recorder rb = successor(overlaps, "w1", () -> w1.isLeader() || oldTerm.isValid());
            LeaderElector b1 = elector(b, name, "b1", rb);
            b1.start();
            awaitLine(b1, 2);

            a.proxy().blackhole();
            a.zk().close();
            await().atMost(WAIT).until(() -> rb.elected.get() == 1);
            SoftAssertions.assertSoftly(soft -> {
                soft.assertThat(overlaps).as("successors elected while the old term was valid").isEmpty();
                soft.assertThat(w1.isLeader()).as("w1.isLeader() after its session expired; events " + r1.events)
                        .isFalse();
                soft.assertThat(oldTerm.isValid()).as("w1's term valid after its session expired").isFalse();
            });
            b1.close();
        } finally {
            ZkServers.closeQuietly(b);
            a.close();
        }
    }

    /** The wrapped path (unchanged): the wrapper's close deletes the node, the successor follows the term's end. */
    @Test
    void closingAWrapperEndsItsTermsBeforeTheSuccessorAndLeavesTheCuratorOpen() throws Exception {
        String name = "review/wrapper-close";
        CuratorFramework curator = CuratorFrameworkFactory.newClient(zk.connectString(), new RetryOneTime(100));
        curator.start();
        ZkRecipes b = Clients.connect(zk.connectString());
        try {
            ZkRecipes wrapper = ZkRecipes.wrap(curator);
            Recorder r1 = new Recorder();
            LeaderElector w1 = elector(wrapper, name, "w1", r1);
            w1.start();
            Leadership oldTerm = w1.awaitLeadership(WAIT).orElseThrow();
            List<String> overlaps = new CopyOnWriteArrayList<>();
            Recorder rb = successor(overlaps, "w1", () -> w1.isLeader() || oldTerm.isValid());
            LeaderElector b1 = elector(b, name, "b1", rb);
            b1.start();
            awaitLine(b1, 2);

            wrapper.close();
            await().atMost(Duration.ofSeconds(5)).until(() -> rb.elected.get() == 1);
            assertThat(overlaps).isEmpty();
            assertThat(curator.getState()).isEqualTo(CuratorFrameworkState.STARTED);
            await().atMost(WAIT).until(() -> r1.revoked.size() == 1);
            assertThat(r1.revoked).containsExactly(RevocationReason.CLOSED);
            b1.close();
        } finally {
            ZkServers.closeQuietly(b);
            curator.close();
        }
    }
}
