package dev.zkrecipes.it.lock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.zkrecipes.core.LeadershipLostException;
import dev.zkrecipes.core.ZkRecipeException;
import dev.zkrecipes.lock.DistributedLock;
import dev.zkrecipes.lock.LockHandle;
import dev.zkrecipes.testing.ProxiedClient;
import dev.zkrecipes.testing.TokenHistory;
import dev.zkrecipes.testing.EmbeddedZk;
import dev.zkrecipes.testing.LoopbackProxy.Opcodes;
import dev.zkrecipes.testing.Operator;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The lock's safety property under random faults (server-side expiry, blackhole, cut, lost replies,
 * interrupts, an operator deleting the holder's node, the server down longer than the session):
 * clients loop acquire → guarded write of their token → release; the tokens that land never go down. And the negative control: an unfenced write
 * of a superseded holder is caught by the checker.
 */
class LockSafetyIT {

    @RegisterExtension
    static final EmbeddedZk zk = EmbeddedZk.server();

    private static final Duration SESSION = Duration.ofSeconds(2);
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final int CLIENTS = 4;
    private static final int ROUNDS = 10;

    private static byte[] bytes(long token) {
        return ByteBuffer.allocate(8).putLong(token).array();
    }

    private static void fencedWrite(CuratorFramework curator, LockHandle h, String resource, TokenHistory history) throws Exception {
        List<CuratorTransactionResult> results = h.commit(curator.transactionOp().setData().forPath(resource, bytes(h.token().value())));
        history.landed(results.get(results.size() - 1).getResultStat().getVersion(), h.token().value());
    }

    @Test
    void tokensThatLandNeverGoDownUnderRandomAmbiguousFaults() throws Exception {
        long seed = Long.getLong("zkr.seed", System.nanoTime());
        System.out.println("LockSafetyIT seed=" + seed + " (rerun with -Dzkr.seed=" + seed + ")");
        Random random = new Random(seed);
        String resource = "/resource/lock-safety";
        TokenHistory history = new TokenHistory();
        AtomicInteger refused = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        List<ProxiedClient> clients = new ArrayList<>();
        List<Thread> workers = new ArrayList<>();
        try {
            for (int i = 0; i < CLIENTS; i++) {
                ProxiedClient c = ProxiedClient.connect(zk.connectString(), zk.port(), SESSION);
                clients.add(c);
                Thread w = new Thread(() -> work(c, resource, history, refused, stop), "lock-worker-" + i);
                w.setDaemon(true);
                workers.add(w);
            }
            clients.get(0).zk().curator().create().creatingParentsIfNeeded().forPath(resource, bytes(0));
            workers.forEach(Thread::start);

            for (int round = 0; round < ROUNDS; round++) {
                int before = history.size();
                int index = random.nextInt(CLIENTS);
                ProxiedClient victim = clients.get(index);
                int fault = random.nextInt(7);
                System.out.println("LockSafetyIT round " + round + ": fault " + fault + " on client " + index);
                switch (fault) {
                    case 0 -> victim.expireSession();
                    case 1 -> {
                        victim.proxy().blackhole();
                        await().pollDelay(SESSION.plusMillis(500)).atMost(WAIT).until(() -> true);
                        victim.proxy().heal();
                    }
                    case 2 -> victim.proxy().loseReplies(1 + random.nextInt(3), Opcodes.WRITES);
                    case 3 -> workers.get(index).interrupt();
                    case 4 -> Operator.deleteFirstInLine(clients.get((index + 1) % CLIENTS).zk().curator(), "/zkr/locks/safety");
                    case 5 -> Operator.outage(zk.testingServer(), SESSION.plusMillis(1500));
                    default -> victim.proxy().cut();
                }
                await().atMost(WAIT).until(() -> history.size() > before + 3);
            }
        } finally {
            stop.set(true);
            for (Thread w : workers) {
                w.join(5000);
            }
            clients.forEach(ProxiedClient::close);
        }
        System.out.println("LockSafetyIT: " + history.size() + " writes landed under " + history.distinctTokens().size()
                + " holds, " + refused.get() + " refused");
        assertThat(history.violations()).isEmpty();
        assertThat(history.distinctTokens()).isSorted().doesNotHaveDuplicates().hasSizeGreaterThan(ROUNDS);
    }

    /** acquire → a few guarded writes of the token → release, until stopped. */
    private static void work(ProxiedClient c, String resource, TokenHistory history, AtomicInteger refused, AtomicBoolean stop) {
        DistributedLock lock = DistributedLock.of(c.zk(), "safety");
        CuratorFramework curator = c.zk().curator();
        while (!stop.get()) {
            Thread.interrupted();
            try {
                Optional<LockHandle> got = lock.tryAcquire(Duration.ofMillis(500));
                if (got.isEmpty()) {
                    continue;
                }
                try (LockHandle h = got.get()) {
                    for (int i = 0; i < 3; i++) {
                        fencedWrite(curator, h, resource, history);
                    }
                }
            } catch (LeadershipLostException e) {
                refused.incrementAndGet();
            } catch (ZkRecipeException e) {
                // connection trouble during a fault: try again
            } catch (InterruptedException e) {
                // an interrupt is one of the faults: go on unless stopping
                if (stop.get()) {
                    return;
                }
            } catch (Exception e) {
                if (stop.get()) {
                    return;
                }
            }
        }
    }

    @Test
    void checkerCatchesAStaleUnfencedWriteThatTheGuardRefuses() throws Exception {
        String resource = "/resource/lock-control";
        TokenHistory history = new TokenHistory();
        try (ProxiedClient a = ProxiedClient.connect(zk.connectString(), zk.port(), SESSION);
             ProxiedClient b = ProxiedClient.connect(zk.connectString(), zk.port(), SESSION)) {
            CuratorFramework ca = a.zk().curator();
            CuratorFramework cb = b.zk().curator();
            ca.create().creatingParentsIfNeeded().forPath(resource, bytes(0));
            LockHandle old = DistributedLock.of(a.zk(), "control").acquire();
            fencedWrite(ca, old, resource, history);

            a.proxy().blackhole();
            CompletableFuture<Void> taken = CompletableFuture.runAsync(() -> {
                try (LockHandle h = DistributedLock.of(b.zk(), "control").acquire()) {
                    fencedWrite(cb, h, resource, history);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            taken.get(20, TimeUnit.SECONDS);
            a.proxy().heal();
            await().atMost(WAIT).until(() -> ca.getZookeeperClient().isConnected());

            assertThatThrownBy(() -> fencedWrite(ca, old, resource, history)).isInstanceOf(LeadershipLostException.class);
            assertThat(history.violations()).isEmpty();

            Stat stat = ca.setData().forPath(resource, bytes(old.token().value()));
            history.landed(stat.getVersion(), old.token().value());
            assertThat(history.violations()).hasSize(1);
            old.close();
        }
    }
}
