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
    void oneRecipesTasksNeverOverlapAndManyRecipesShareABoundedPool() throws Exception {
        int recipes = 100;
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch started = new CountDownLatch(SerialExecutor.MAX_CALLBACK_THREADS);
        CountDownLatch finished = new CountDownLatch(recipes * 2);
        Set<String> threads = ConcurrentHashMap.newKeySet();
        AtomicInteger overlaps = new AtomicInteger();
        List<SerialExecutor> executors = new ArrayList<>();
        for (int i = 0; i < recipes; i++) {
            SerialExecutor e = SerialExecutor.forCallbacks("r" + i, client);
            executors.add(e);
            AtomicInteger inside = new AtomicInteger();
            for (int k = 0; k < 2; k++) {
                e.execute(() -> {
                    if (inside.incrementAndGet() > 1) {
                        overlaps.incrementAndGet();
                    }
                    threads.add(Thread.currentThread().getName() + "@" + System.identityHashCode(Thread.currentThread()));
                    started.countDown();
                    try {
                        release.await(10, TimeUnit.SECONDS);
                    } catch (InterruptedException ex) {
                        Thread.currentThread().interrupt();
                    }
                    inside.decrementAndGet();
                    finished.countDown();
                });
            }
        }
        // blocked tasks hold every thread of the pool, and no more threads are made for the rest
        await(started);
        assertThat(liveThreadsNamed("zkr-r")).isEqualTo(SerialExecutor.MAX_CALLBACK_THREADS);
        release.countDown();
        await(finished);
        assertThat(overlaps.get()).as("tasks of one recipe running at once").isZero();
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
        assertThat(executor.inExecutorThread()).isFalse();
    }

    private static long liveThreadsNamed(String prefix) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.isAlive() && t.getName().startsWith(prefix)).count();
    }
}
