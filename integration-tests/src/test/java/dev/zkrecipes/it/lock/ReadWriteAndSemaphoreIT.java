package dev.zkrecipes.it.lock;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zkrecipes.lock.DistributedLock;
import dev.zkrecipes.lock.DistributedReadWriteLock;
import dev.zkrecipes.lock.DistributedSemaphore;
import dev.zkrecipes.lock.LockHandle;
import dev.zkrecipes.lock.Permit;
import dev.zkrecipes.testing.EmbeddedZk;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.TestInfo;

class ReadWriteAndSemaphoreIT {

    @RegisterExtension
    static final EmbeddedZk zk = EmbeddedZk.withClients(4);

    private static final Duration WAIT = Duration.ofSeconds(10);

    private static String name(TestInfo info) {
        return "it/" + info.getTestMethod().orElseThrow().getName();
    }

    @Test
    void manyReadersHoldTogetherAndAWriterExcludesThemAll(TestInfo info) throws Exception {
        String name = name(info);
        List<LockHandle> readers = new ArrayList<>();
        for (int c = 0; c < 3; c++) {
            readers.add(DistributedReadWriteLock.of(zk.client(c), name).readLock().tryAcquire(Duration.ZERO).orElseThrow());
        }
        DistributedLock writer = DistributedReadWriteLock.of(zk.client(3), name).writeLock();
        assertThat(writer.tryAcquire(Duration.ofMillis(200))).isEmpty();

        readers.forEach(LockHandle::close);
        try (LockHandle w = writer.tryAcquire(WAIT).orElseThrow()) {
            assertThat(DistributedReadWriteLock.of(zk.client(0), name).readLock().tryAcquire(Duration.ofMillis(200))).isEmpty();
            assertThat(DistributedReadWriteLock.of(zk.client(1), name).writeLock().tryAcquire(Duration.ZERO)).isEmpty();
            assertThat(w.token()).isGreaterThan(readers.get(2).token());
        }
    }

    @Test
    void writerDowngradesToReadAndLetsOtherReadersIn(TestInfo info) throws Exception {
        String name = name(info);
        DistributedReadWriteLock rw = DistributedReadWriteLock.of(zk.client(0), name);
        LockHandle write = rw.writeLock().acquire();
        LockHandle read = rw.readLock().tryAcquire(Duration.ZERO).orElseThrow();
        DistributedLock otherReader = DistributedReadWriteLock.of(zk.client(1), name).readLock();
        assertThat(otherReader.tryAcquire(Duration.ZERO)).isEmpty();

        write.close();

        CompletableFuture<Boolean> got = CompletableFuture.supplyAsync(() -> {
            try {
                var h = otherReader.tryAcquire(WAIT);
                h.ifPresent(LockHandle::close);
                return h.isPresent();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(got.get(15, TimeUnit.SECONDS)).isTrue();
        assertThat(read.isValid()).isTrue();
        read.close();
    }

    @Test
    void semaphoreNeverGrantsMoreThanItsPermits(TestInfo info) throws Exception {
        String name = name(info);
        int permits = 2;
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        List<CompletableFuture<Void>> workers = new ArrayList<>();
        for (int c = 0; c < 4; c++) {
            DistributedSemaphore sem = DistributedSemaphore.of(zk.client(c), name, permits);
            workers.add(CompletableFuture.runAsync(() -> {
                for (int r = 0; r < 10; r++) {
                    try (Permit p = sem.acquire()) {
                        most.accumulateAndGet(inside.incrementAndGet(), Math::max);
                        assertThat(p.isValid()).isTrue();
                        Thread.onSpinWait();
                        inside.decrementAndGet();
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                }
            }));
        }
        CompletableFuture.allOf(workers.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        assertThat(most.get()).isBetween(1, permits);
        assertThat(zk.client(0).curator().getChildren().forPath("/zkr/semaphores/" + name)).isEmpty();
    }

    @Test
    void semaphoreGrantsExactlyItsPermitsAtOnceAndAPermitMayBeReturnedFromAnotherThread(TestInfo info) throws Exception {
        String name = name(info);
        DistributedSemaphore sem = DistributedSemaphore.of(zk.client(0), name, 3);
        List<Permit> held = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            held.add(sem.tryAcquire(Duration.ZERO).orElseThrow());
        }
        DistributedSemaphore other = DistributedSemaphore.of(zk.client(1), name, 3);
        assertThat(other.tryAcquire(Duration.ofMillis(200))).isEmpty();
        assertThat(sem.holders()).hasSize(3).allMatch(h -> h.holding());

        CompletableFuture.runAsync(held.get(0)::close).get(5, TimeUnit.SECONDS);
        Permit next = other.tryAcquire(WAIT).orElseThrow();
        next.close();
        held.forEach(Permit::close);
    }
}
