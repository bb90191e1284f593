package dev.zkrecipes.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SerialExecutorTest {

    /** Stands for a client: pools are per client. */
    private final Object client = new Object();

    private static void await(CountDownLatch latch) throws InterruptedException {
        assertThat(latch.await(10, TimeUnit.SECONDS)).as("done within 10 s").isTrue();
    }

    @Test
    void runsTasksInOrderAcrossTurnsAndSurvivesAThrowingTask() throws Exception {
        List<Integer> ran = new CopyOnWriteArrayList<>();
        SerialExecutor executor = SerialExecutor.forWork("test", client);
        CountDownLatch done = new CountDownLatch(1);
        for (int i = 0; i < 300; i++) {
            int n = i;
            executor.execute(() -> {
                if (n == 50) {
                    throw new IllegalStateException("a listener bug");
                }
                ran.add(n);
            });
        }
        executor.execute(done::countDown);
        await(done);
        assertThat(ran).hasSize(299).isSorted();
        SerialExecutor.closePools(client);
    }

    @Test
    void aBurstOfManyRecipesRunsOnABoundedPoolAndOneRecipesTasksNeverOverlap() throws Exception {
        int recipes = 1000;
        CountDownLatch finished = new CountDownLatch(recipes * 3);
        Set<Thread> threads = ConcurrentHashMap.newKeySet();
        AtomicInteger overlaps = new AtomicInteger();
        for (int i = 0; i < recipes; i++) {
            SerialExecutor e = SerialExecutor.forCallbacks("burst" + i, client);
            AtomicInteger inside = new AtomicInteger();
            for (int k = 0; k < 3; k++) {
                e.execute(() -> {
                    if (inside.incrementAndGet() > 1) {
                        overlaps.incrementAndGet();
                    }
                    threads.add(Thread.currentThread());
                    inside.decrementAndGet();
                    finished.countDown();
                });
            }
        }
        await(finished);
        assertThat(overlaps.get()).as("tasks of one recipe running at once").isZero();
        assertThat(threads).as("threads that ran 3,000 quick callbacks of 1,000 recipes")
                .hasSizeLessThanOrEqualTo(SerialExecutor.MAX_CALLBACK_THREADS);
        SerialExecutor.closePools(client);
    }

    @Test
    void listenersThatBlockCostThreadsNeverAnotherRecipesCallback() throws Exception {
        int blocked = SerialExecutor.MAX_CALLBACK_THREADS + 4;
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch allBlocked = new CountDownLatch(blocked);
        for (int i = 0; i < blocked; i++) {
            SerialExecutor.forCallbacks("blocked" + i, client).execute(() -> {
                allBlocked.countDown();
                try {
                    release.await(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }
        CountDownLatch other = new CountDownLatch(1);
        SerialExecutor.forCallbacks("revoked-of-another-recipe", client).execute(other::countDown);
        try {
            // the pool grows once it is stuck: every blocked listener and the other recipe's callback run
            await(allBlocked);
            await(other);
        } finally {
            release.countDown();
        }
        SerialExecutor.closePools(client);
    }

    @Test
    void closingTheClientsPoolsStillRunsEveryTaskAlreadySubmitted() throws Exception {
        SerialExecutor executor = SerialExecutor.forCallbacks("backlog", client);
        CountDownLatch gate = new CountDownLatch(1);
        List<Integer> ran = new CopyOnWriteArrayList<>();
        executor.execute(() -> {
            try {
                gate.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        for (int i = 0; i < 200; i++) {
            int n = i;
            executor.execute(() -> ran.add(n));
        }
        CountDownLatch last = new CountDownLatch(1);
        executor.execute(last::countDown);
        SerialExecutor.closePools(client);
        gate.countDown();
        await(last);
        assertThat(ran).hasSize(200).isSorted();
    }

    @Test
    void anInterruptLeftByOneTaskDoesNotReachTheNext() throws Exception {
        SerialExecutor executor = SerialExecutor.forWork("interrupting", client);
        AtomicInteger interruptedLater = new AtomicInteger(-1);
        CountDownLatch done = new CountDownLatch(1);
        executor.execute(() -> Thread.currentThread().interrupt());
        executor.execute(() -> {
            interruptedLater.set(Thread.currentThread().isInterrupted() ? 1 : 0);
            done.countDown();
        });
        await(done);
        assertThat(interruptedLater.get()).isZero();
        SerialExecutor.closePools(client);
    }

    @Test
    void aThreadCarriesTheRecipesNameOnlyWhileItRunsItsTasks() throws Exception {
        SerialExecutor executor = SerialExecutor.forCallbacks("election-x-listener", client);
        List<String> names = new CopyOnWriteArrayList<>();
        CountDownLatch done = new CountDownLatch(2);
        for (int i = 0; i < 2; i++) {
            executor.execute(() -> {
                names.add(Thread.currentThread().getName());
                assertThat(executor.inExecutorThread()).isTrue();
                done.countDown();
            });
        }
        await(done);
        assertThat(names).allSatisfy(n -> assertThat(n).matches("zkr-election-x-listener-\\d+"));
        assertThat(executor.inExecutorThread()).isFalse();
        SerialExecutor.closePools(client);
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
                .until(() -> liveThreadsNamed("zkr-election-x-listener") == 0);
    }

    @Test
    void tasksAfterCloseOrAfterTheClientsPoolsEndAreDroppedQuietly() throws Exception {
        SerialExecutor executor = SerialExecutor.forWork("test", client);
        executor.close();
        executor.execute(() -> {
            throw new AssertionError("must not run");
        });
        SerialExecutor other = SerialExecutor.forWork("other", client);
        SerialExecutor.closePools(client);
        other.execute(() -> {
            throw new AssertionError("must not run");
        });
        // a recipe made after its client closed gets no thread either
        SerialExecutor late = SerialExecutor.forCallbacks("late", client);
        late.execute(() -> {
            throw new AssertionError("must not run");
        });
        assertThat(executor.inExecutorThread()).isFalse();
    }

    private static long liveThreadsNamed(String prefix) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.isAlive() && t.getName().startsWith(prefix)).count();
    }
}
