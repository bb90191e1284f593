package dev.zkrecipes.it.lock;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.zkrecipes.core.LeadershipLostException;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.lock.DistributedLock;
import dev.zkrecipes.lock.DistributedSemaphore;
import dev.zkrecipes.lock.LockHandle;
import dev.zkrecipes.lock.LockHolder;
import dev.zkrecipes.testing.EmbeddedZk;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.TestInfo;

/** The lock's contract on one real server, across separate clients. */
class LockIT {

    @RegisterExtension
    static final EmbeddedZk zk = EmbeddedZk.withClients(4);

    private static final Duration WAIT = Duration.ofSeconds(20);
    private String name;

    @BeforeEach
    void name(TestInfo info) {
        name = "it/" + info.getTestMethod().orElseThrow().getName();
    }

    private ZkRecipes client(int i) {
        return zk.client(i);
    }

    private List<String> nodes() throws Exception {
        if (client(0).curator().checkExists().forPath("/zkr/locks/" + name) == null) {
            return List.of();
        }
        return client(0).curator().getChildren().forPath("/zkr/locks/" + name);
    }

    @Test
    void excludesMutuallyAcrossFourClientsWithASharedCounter() throws Exception {
        String counter = "/counter/" + name;
        client(0).curator().create().creatingParentsIfNeeded().forPath(counter, "0".getBytes(UTF_8));
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        int rounds = 15;
        List<CompletableFuture<Void>> workers = new ArrayList<>();
        for (int c = 0; c < 4; c++) {
            DistributedLock lock = DistributedLock.of(client(c), name);
            ZkRecipes worker = client(c);
            for (int t = 0; t < 2; t++) {
                workers.add(CompletableFuture.runAsync(() -> {
                    for (int r = 0; r < rounds; r++) {
                        try (LockHandle h = lock.acquire()) {
                            if (inside.incrementAndGet() != 1) {
                                overlaps.incrementAndGet();
                            }
                            int value = Integer.parseInt(new String(worker.curator().getData().forPath(counter), UTF_8));
                            h.commit(worker.curator().transactionOp().setData().forPath(counter, Integer.toString(value + 1).getBytes(UTF_8)));
                            inside.decrementAndGet();
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    }
                }));
            }
        }
        CompletableFuture.allOf(workers.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);

        assertThat(overlaps.get()).isZero();
        assertThat(new String(client(0).curator().getData().forPath(counter), UTF_8)).isEqualTo(Integer.toString(4 * 2 * rounds));
        assertThat(nodes()).isEmpty();
    }

    @Test
    void isReentrantPerThreadWithOneNodeAndOneToken() throws Exception {
        DistributedLock lock = DistributedLock.of(client(0), name);
        DistributedLock other = DistributedLock.of(client(1), name);
        LockHandle outer = lock.acquire();
        LockHandle inner = lock.acquire();

        assertThat(inner.token()).isEqualTo(outer.token());
        assertThat(nodes()).hasSize(1);
        inner.close();
        assertThat(lock.isHeldByCurrentThread()).isTrue();
        assertThat(other.tryAcquire(Duration.ZERO)).isEmpty();
        outer.close();
        assertThat(lock.isHeldByCurrentThread()).isFalse();
        try (LockHandle next = other.tryAcquire(WAIT).orElseThrow()) {
            assertThat(next.token()).isGreaterThan(outer.token());
        }
    }

    @Test
    void tryAcquireTimesOutAndLeavesNoNodeBehind() throws Exception {
        DistributedLock lock = DistributedLock.of(client(0), name);
        try (LockHandle held = lock.acquire()) {
            Optional<LockHandle> none = DistributedLock.of(client(1), name).tryAcquire(Duration.ofMillis(200));
            assertThat(none).isEmpty();
            assertThat(nodes()).hasSize(1);
        }
        assertThat(nodes()).isEmpty();
    }

    @Test
    void interruptionWhileWaitingThrowsAndLeavesNoNodeBehind() throws Exception {
        DistributedLock lock = DistributedLock.of(client(0), name);
        try (LockHandle held = lock.acquire()) {
            List<Throwable> thrown = new CopyOnWriteArrayList<>();
            Thread waiter = new Thread(() -> {
                try {
                    DistributedLock.of(client(1), name).acquire().close();
                } catch (Throwable t) {
                    thrown.add(t);
                }
            });
            waiter.start();
            await().atMost(WAIT).until(() -> nodes().size() == 2);
            waiter.interrupt();
            waiter.join(10_000);

            assertThat(thrown).singleElement().isInstanceOf(InterruptedException.class);
            assertThat(nodes()).hasSize(1);
        }
    }

    @Test
    void releasedLockIsFreeAsSoonAsCloseReturnsAndTokensIncrease() throws Exception {
        DistributedLock a = DistributedLock.of(client(0), name);
        DistributedLock b = DistributedLock.of(client(1), name);
        long last = 0;
        for (int i = 0; i < 5; i++) {
            LockHandle h = (i % 2 == 0 ? a : b).acquire();
            assertThat(h.token().value()).isGreaterThan(last);
            last = h.token().value();
            h.close();
            // the synchronous release: the other client gets it without waiting
            assertThat((i % 2 == 0 ? b : a).tryAcquire(Duration.ZERO)).hasValueSatisfying(LockHandle::close);
        }
    }

    @Test
    void handleClosesOnceOnlyOnItsThreadAndRefusesCommitsAfterwards() throws Exception {
        DistributedLock lock = DistributedLock.of(client(0), name);
        LockHandle h = lock.acquire();
        CompletableFuture<Void> elsewhere = CompletableFuture.runAsync(h::close);
        assertThatThrownBy(elsewhere::join).hasCauseInstanceOf(IllegalStateException.class)
                .hasMessageContaining("thread that acquired it");
        assertThat(h.isValid()).isTrue();
        h.close();
        h.close();
        assertThat(h.isValid()).isFalse();
        assertThatThrownBy(h::commit).isInstanceOf(LeadershipLostException.class);
        assertThat(nodes()).isEmpty();
    }

    @Test
    void holdersListTheHolderThenTheWaitersWithIdsAndTokens() throws Exception {
        DistributedLock lock = DistributedLock.of(client(0), name);
        try (LockHandle held = lock.acquire()) {
            CompletableFuture<Boolean> waiting = CompletableFuture.supplyAsync(() -> {
                try {
                    Optional<LockHandle> got = DistributedLock.of(client(1), name).tryAcquire(Duration.ofSeconds(10));
                    got.ifPresent(LockHandle::close);
                    return got.isPresent();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            await().atMost(WAIT).until(() -> lock.holders().size() == 2);
            List<LockHolder> line = lock.holders();
            assertThat(line.get(0).holding()).isTrue();
            assertThat(line.get(0).token()).isEqualTo(held.token());
            assertThat(line.get(0).id()).contains(":" + ProcessHandle.current().pid() + ":" + Thread.currentThread().getName());
            assertThat(line.get(1).holding()).isFalse();
            assertThat(line.get(1).token()).isGreaterThan(held.token());
            held.close();
            assertThat(waiting.get(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void badInputFailsBeforeAnythingIsWritten() throws Exception {
        assertThatThrownBy(() -> DistributedLock.of(client(0), "a//b")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'a//b'");
        assertThatThrownBy(() -> DistributedLock.of(client(0), name).tryAcquire(Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("timeout");
        assertThatThrownBy(() -> DistributedSemaphore.of(client(0), name, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("permits");
        assertThatThrownBy(() -> DistributedLock.of(null, name)).isInstanceOf(NullPointerException.class);
        assertThat(client(0).curator().checkExists().forPath("/zkr/locks/" + name)).isNull();
        assertThat(client(0).curator().checkExists().forPath("/zkr/semaphores/" + name)).isNull();
    }
}
