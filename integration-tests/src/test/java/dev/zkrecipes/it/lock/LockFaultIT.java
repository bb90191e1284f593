package dev.zkrecipes.it.lock;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.zkrecipes.core.FencingToken;
import dev.zkrecipes.core.LeadershipLostException;
import dev.zkrecipes.lock.DistributedLock;
import dev.zkrecipes.lock.LockHandle;
import dev.zkrecipes.lock.LockListener;
import dev.zkrecipes.testing.ProxiedClient;
import dev.zkrecipes.testing.EmbeddedZk;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.TestInfo;

/** The lock under faults: the holder's session expires, the holder is silently partitioned. */
class LockFaultIT {

    @RegisterExtension
    static final EmbeddedZk zk = EmbeddedZk.server();

    private static final Duration SESSION = Duration.ofSeconds(3);
    private static final Duration WAIT = Duration.ofSeconds(20);

    private static ProxiedClient client() {
        return ProxiedClient.connect(zk.connectString(), zk.port(), SESSION);
    }

    /** Acquires on a thread of its own, records when, releases on {@code release}. */
    private static CompletableFuture<LockHandle> acquireInBackground(DistributedLock lock, AtomicLong acquiredAt,
            CompletableFuture<Void> release) {
        CompletableFuture<LockHandle> got = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try (LockHandle h = lock.acquire()) {
                acquiredAt.set(System.nanoTime());
                got.complete(h);
                release.get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                got.completeExceptionally(e);
            }
        });
        t.setDaemon(true);
        t.start();
        return got;
    }

    @Test
    void holdersSessionExpiryPassesTheLockOnAndTheOldHandleIsRefused(TestInfo info) throws Exception {
        String name = info.getTestMethod().orElseThrow().getName();
        String resource = "/resource/" + name;
        try (ProxiedClient a = client(); ProxiedClient b = client()) {
            b.zk().curator().create().creatingParentsIfNeeded().forPath(resource, new byte[0]);
            DistributedLock lockA = DistributedLock.of(a.zk(), name);
            LockHandle old = lockA.acquire();
            CompletableFuture<Void> release = new CompletableFuture<>();
            CompletableFuture<LockHandle> next = acquireInBackground(DistributedLock.of(b.zk(), name), new AtomicLong(), release);
            await().atMost(WAIT).until(() -> lockA.holders().size() == 2);

            a.expireSession();

            LockHandle handle = next.get(20, TimeUnit.SECONDS);
            assertThat(handle.token()).isGreaterThan(old.token());
            await().atMost(WAIT).until(() -> !old.isValid());
            assertThatThrownBy(() -> old.commit(a.zk().curator().transactionOp().setData().forPath(resource, "stale".getBytes(UTF_8))))
                    .isInstanceOf(LeadershipLostException.class);
            assertThat(b.zk().curator().getData().forPath(resource)).isEmpty();
            assertThatCode(old::close).doesNotThrowAnyException();
            release.complete(null);
        }
    }

    @Test
    void blackholedHolderLearnsItIsInvalidBeforeAnotherClientAcquires(TestInfo info) throws Exception {
        String name = info.getTestMethod().orElseThrow().getName();
        try (ProxiedClient a = client(); ProxiedClient b = client()) {
            AtomicLong suspendedAt = new AtomicLong();
            AtomicLong lostAt = new AtomicLong();
            DistributedLock lockA = DistributedLock.of(a.zk(), name).addListener(new LockListener() {
                @Override
                public void suspended(FencingToken token) {
                    suspendedAt.compareAndSet(0, System.nanoTime());
                }

                @Override
                public void lost(FencingToken token) {
                    lostAt.set(System.nanoTime());
                }
            });
            LockHandle held = lockA.acquire();
            AtomicLong acquiredAt = new AtomicLong();
            CompletableFuture<Void> release = new CompletableFuture<>();
            CompletableFuture<LockHandle> next = acquireInBackground(DistributedLock.of(b.zk(), name), acquiredAt, release);
            await().atMost(WAIT).until(() -> lockA.holders().size() == 2);

            a.proxy().blackhole();

            next.get(20, TimeUnit.SECONDS);
            assertThat(held.isValid()).isFalse();
            assertThat(suspendedAt.get()).isPositive().isLessThan(acquiredAt.get());
            a.proxy().heal();
            await().atMost(WAIT).until(() -> lostAt.get() > 0);
            assertThatCode(held::close).doesNotThrowAnyException();
            release.complete(null);
        }
    }

    @Test
    void shortConnectionCutKeepsTheSameHoldValidAfterReconnect(TestInfo info) throws Exception {
        String name = info.getTestMethod().orElseThrow().getName();
        try (ProxiedClient a = client(); ProxiedClient b = client()) {
            AtomicLong resumed = new AtomicLong();
            DistributedLock lockA = DistributedLock.of(a.zk(), name).addListener(new LockListener() {
                @Override
                public void resumed(FencingToken token) {
                    resumed.set(token.value());
                }
            });
            try (LockHandle held = lockA.acquire()) {
                a.proxy().cut();
                await().atMost(WAIT).until(() -> resumed.get() == held.token().value());
                assertThat(held.isValid()).isTrue();
                assertThat(DistributedLock.of(b.zk(), name).tryAcquire(Duration.ZERO)).isEmpty();
                held.commit();
            }
        }
    }
}
