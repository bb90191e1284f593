package dev.zkrecipes.it.election;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.election.LeaderElector;
import dev.zkrecipes.election.Leadership;
import dev.zkrecipes.election.LeadershipListener;
import dev.zkrecipes.election.RevocationReason;
import dev.zkrecipes.lock.DistributedLock;
import dev.zkrecipes.lock.LockHandle;
import dev.zkrecipes.lock.LockListener;
import dev.zkrecipes.testing.Clients;
import dev.zkrecipes.testing.EmbeddedZk;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A thousand elections and locks on one client cost a bounded number of threads, and a listener that blocks
 * in one election does not hold up another election's hand-off.
 */
class ManyElectionsIT {

    @RegisterExtension
    static final EmbeddedZk zk = EmbeddedZk.server();

    private static final Duration WAIT = Duration.ofSeconds(30);

    /**
     * The bound: 1,000 elections and 1,000 locks held with listeners add at most 32 threads
     * to a connected client (its two pools, 16 each, whatever the count), and closing the client
     * ends every one of them.
     */
    @Test
    void aThousandElectionsAndAThousandHeldLocksOnOneClientAddAtMostThirtyTwoThreads() throws Exception {
        java.util.Set<Thread> before = java.util.Set.copyOf(Thread.getAllStackTraces().keySet());
        ZkRecipes client = Clients.connect(zk.connectString());
        List<LeaderElector> electors = new ArrayList<>();
        List<LockHandle> held = new ArrayList<>();
        try (client) {
            // the client's own threads (Curator's, ZooKeeper's) are there before any recipe
            int threadsConnected = Thread.activeCount();
            LeadershipListener quiet = new LeadershipListener() {
                @Override
                public void elected(Leadership term) {
                }

                @Override
                public void revoked(Leadership term, RevocationReason reason) {
                }
            };
            for (int i = 0; i < 1000; i++) {
                LeaderElector e = LeaderElector.builder(client, "many/e" + i).participantId("p").listener(quiet).build();
                e.start();
                electors.add(e);
            }
            for (int i = 0; i < 1000; i++) {
                DistributedLock lock = DistributedLock.of(client, "many/l" + i).addListener(new LockListener() { });
                held.add(lock.tryAcquire(WAIT).orElseThrow());
            }
            for (LeaderElector e : electors) {
                assertThat(e.awaitLeadership(WAIT)).isPresent();
            }
            assertThat(Thread.activeCount() - threadsConnected).as("threads added by 1,000 elections and 1,000 held locks")
                    .isLessThanOrEqualTo(32);
            assertThat(held).allMatch(LockHandle::isValid);
        }
        // closing the client ends them all
        // (the embedded server's own connection workers, made for the new client, stay)
        org.awaitility.Awaitility.await().atMost(WAIT).untilAsserted(() -> assertThat(Thread.getAllStackTraces().keySet())
                .filteredOn(t -> t.isAlive() && !before.contains(t) && !t.getName().startsWith("NIOWorkerThread") && !t.getName().startsWith("awaitility"))
                .extracting(Thread::getName).isEmpty());
        assertThat(electors).noneMatch(LeaderElector::isLeader);
        assertThat(held).noneMatch(LockHandle::isValid);
    }

    @Test
    void aListenerThatBlocksInOneElectionDoesNotDelayAnotherElectionsHandOff() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        ZkRecipes slowClient = Clients.connect(zk.connectString());
        ZkRecipes a = Clients.connect(zk.connectString());
        ZkRecipes b = Clients.connect(zk.connectString());
        try (slowClient; a; b) {
            LeaderElector slow = LeaderElector.builder(slowClient, "blocking-listener").participantId("slow")
                    .listener(new LeadershipListener() {
                        @Override
                        public void elected(Leadership term) {
                            try {
                                release.await(20, TimeUnit.SECONDS);  // a listener stuck in user code
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        }

                        @Override
                        public void revoked(Leadership term, RevocationReason reason) {
                        }
                    }).build();
            slow.start();
            assertThat(slow.awaitLeadership(WAIT)).isPresent();

            LeaderElector first = LeaderElector.builder(a, "unrelated").participantId("a").build();
            LeaderElector second = LeaderElector.builder(b, "unrelated").participantId("b").build();
            first.start();
            assertThat(first.awaitLeadership(WAIT)).isPresent();
            second.start();
            long resigned = System.nanoTime();
            first.resign();
            first.close();
            assertThat(second.awaitLeadership(Duration.ofSeconds(5))).as("the unrelated hand-off").isPresent();
            assertThat(Duration.ofNanos(System.nanoTime() - resigned)).isLessThan(Duration.ofSeconds(5));
            second.close();
            release.countDown();
            slow.close();
        }
    }
}
