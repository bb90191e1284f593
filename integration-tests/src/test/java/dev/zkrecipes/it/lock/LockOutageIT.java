package dev.zkrecipes.it.lock;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.zkrecipes.core.ConnectionLossException;
import dev.zkrecipes.core.FencingToken;
import dev.zkrecipes.core.LeadershipLostException;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.lock.DistributedLock;
import dev.zkrecipes.lock.LockHandle;
import dev.zkrecipes.lock.LockHolder;
import dev.zkrecipes.lock.LockListener;
import dev.zkrecipes.testing.Clients;
import dev.zkrecipes.testing.ZkServers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.RetryNTimes;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * The lock while the whole ensemble is down: a server stopped for longer than the sessions and
 * restarted on the same data (which brings the old sessions and their nodes back for a few seconds
 * before it expires them), and timed calls made while nothing answers. This class owns its server,
 * because it stops and restarts it.
 */
class LockOutageIT {

    private static final Duration SESSION = Duration.ofSeconds(3);
    private static final Duration WAIT = Duration.ofSeconds(15);

    private static TestingServer server;
    private static volatile boolean serverDown;
    private final List<AutoCloseable> closeAfter = new ArrayList<>();

    @BeforeAll
    static void startServer() {
        server = ZkServers.startServer();
    }

    @AfterAll
    static void stopServer() {
        ZkServers.closeQuietly(server);
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (serverDown) {
            restartServer();
        }
        for (int i = closeAfter.size() - 1; i >= 0; i--) {
            ZkServers.closeQuietly(closeAfter.get(i));
        }
    }

    private static void stopServer(String why) throws Exception {
        serverDown = true;
        server.stop();
        System.out.println("LockOutageIT: server stopped (" + why + ")");
    }

    private static void restartServer() throws Exception {
        server.restart();
        serverDown = false;
        System.out.println("LockOutageIT: server restarted on the same port and data");
    }

    private ZkRecipes client(Duration session) {
        ZkRecipes zk = Clients.connect(server.getConnectString(), session);
        closeAfter.add(zk);
        return zk;
    }

    private static String lockPath(String name) {
        return "/zkr/locks/" + name;
    }

    /** The children of a lock's parent, or none if it does not exist. */
    private static List<String> children(CuratorFramework curator, String parent) throws Exception {
        try {
            return curator.getChildren().forPath(parent);
        } catch (KeeperException.NoNodeException e) {
            return List.of();
        }
    }

    /** Counts the LOST states a client's Curator reports, so that a test can wait for it. */
    private static AtomicInteger lostStates(ZkRecipes zk) {
        AtomicInteger lost = new AtomicInteger();
        zk.curator().getConnectionStateListenable().addListener((c, state) -> {
            if (state == ConnectionState.LOST) {
                lost.incrementAndGet();
            }
        });
        return lost;
    }

    /** Records the tokens a lock's listener hears lost. */
    private static List<FencingToken> lostTokens(DistributedLock lock) {
        List<FencingToken> lost = new CopyOnWriteArrayList<>();
        lock.addListener(new LockListener() {
            @Override
            public void lost(FencingToken token) {
                lost.add(token);
            }
        });
        return lost;
    }

    /**
     * A client waiting in {@code acquire()} on its own thread, as an application would: a
     * {@link ConnectionLossException} (the retry policy gave up during the outage, as documented) is
     * counted and the acquire is made again; anything else ends the waiter with that exception. The
     * handle is published while held and closed on the same thread when the test releases it.
     */
    private static final class Waiter implements AutoCloseable {
        final String label;
        final DistributedLock lock;
        final CompletableFuture<LockHandle> acquired = new CompletableFuture<>();
        final AtomicReference<LockHandle> held = new AtomicReference<>();
        final List<String> failures = new CopyOnWriteArrayList<>();
        final CountDownLatch release = new CountDownLatch(1);
        final AtomicBoolean stop = new AtomicBoolean();
        final Thread thread;

        Waiter(String label, DistributedLock lock, List<LockHandle> published) {
            this.label = label;
            this.lock = lock;
            this.thread = new Thread(() -> run(published), "waiter-" + label);
            thread.setDaemon(true);
            thread.start();
        }

        private void run(List<LockHandle> published) {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
            while (!stop.get() && System.nanoTime() < end) {
                LockHandle h;
                try {
                    h = lock.acquire();
                } catch (ConnectionLossException e) {
                    failures.add(e.getClass().getSimpleName());
                    continue;
                } catch (Throwable e) {
                    failures.add(e.toString());
                    acquired.completeExceptionally(e);
                    return;
                }
                published.add(h);
                held.set(h);
                acquired.complete(h);
                try {
                    release.await(40, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    held.set(null);
                    h.close();
                }
                return;
            }
            acquired.completeExceptionally(new IllegalStateException(label + " stopped before it acquired"));
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            release.countDown();
            if (!acquired.isDone()) {
                thread.interrupt();
            }
            thread.join(5000);
        }
    }

    /**
     * Samples the validity of every handle handed out, every couple of milliseconds, and records
     * each moment at which more than one reported {@code isValid()}.
     */
    private static final class ValidityChecker implements AutoCloseable {
        final List<LockHandle> handles = new CopyOnWriteArrayList<>();
        final List<String> violations = new CopyOnWriteArrayList<>();
        final AtomicInteger samples = new AtomicInteger();
        final AtomicBoolean stop = new AtomicBoolean();
        final Thread thread = new Thread(this::run, "validity-checker");

        ValidityChecker start() {
            thread.setDaemon(true);
            thread.start();
            return this;
        }

        private void run() {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!stop.get() && System.nanoTime() < end) {
                List<LockHandle> valid = new ArrayList<>();
                for (LockHandle h : handles) {
                    if (h.isValid()) {
                        valid.add(h);
                    }
                }
                if (valid.size() > 1 && violations.size() < 100) {
                    violations.add(System.nanoTime() + ": " + valid);
                }
                samples.incrementAndGet();
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
            }
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            thread.join(5000);
        }
    }

    @Test
    void serverDownLongerThanTheSessionNeverGivesTwoHolders(TestInfo info) throws Exception {
        String name = "outage/" + info.getTestMethod().orElseThrow().getName();
        String resource = "/resource/" + name;
        ZkRecipes a = client(SESSION);
        ZkRecipes b = client(SESSION);
        ZkRecipes c = client(SESSION);
        a.curator().create().creatingParentsIfNeeded().forPath(resource, new byte[0]);
        AtomicInteger lostA = lostStates(a);
        AtomicInteger lostB = lostStates(b);
        AtomicInteger lostC = lostStates(c);

        DistributedLock lockA = DistributedLock.of(a, name);
        List<FencingToken> heardLostByA = lostTokens(lockA);
        DistributedLock lockB = DistributedLock.of(b, name);
        List<FencingToken> heardLostByB = lostTokens(lockB);
        DistributedLock lockC = DistributedLock.of(c, name);
        List<FencingToken> heardLostByC = lostTokens(lockC);

        ValidityChecker checker = new ValidityChecker();
        closeAfter.add(checker);
        // A holds on a worker of its own, which stops (closes its handle) when its listener hears
        // the hold is lost, as an application does: its guaranteed delete removes A's old node as
        // soon as the server is back, while the old sessions of B and C are still alive there
        Holder holderA = new Holder(lockA, heardLostByA);
        closeAfter.add(holderA);
        LockHandle held = holderA.acquired.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        checker.handles.add(held);
        checker.start();
        Waiter waiterB = new Waiter("B", lockB, checker.handles);
        closeAfter.add(waiterB);
        await().atMost(WAIT).until(() -> lockA.holders().size() == 2);
        Waiter waiterC = new Waiter("C", lockC, checker.handles);
        closeAfter.add(waiterC);
        await().atMost(WAIT).until(() -> lockA.holders().size() == 3);

        stopServer("for longer than the " + SESSION.toMillis() + " ms sessions");
        await("every client's Curator reports LOST").atMost(WAIT)
                .until(() -> lostA.get() > 0 && lostB.get() > 0 && lostC.get() > 0);
        assertThat(held.isValid()).isFalse();
        restartServer();

        await("A hears its hold lost").atMost(WAIT).until(() -> !heardLostByA.isEmpty());
        assertThat(heardLostByA).containsExactly(held.token());
        assertThat(holderA.closed.get(WAIT.toSeconds(), TimeUnit.SECONDS)).as("A's close() threw").isNull();

        // the old sessions and their nodes are back on the server until it expires them
        await("one of B and C holds the lock again").atMost(WAIT)
                .until(() -> waiterB.acquired.isDone() || waiterC.acquired.isDone());
        Waiter winner = waiterB.acquired.isDone() ? waiterB : waiterC;
        Waiter loser = winner == waiterB ? waiterC : waiterB;
        ZkRecipes winnerClient = winner == waiterB ? b : c;
        LockHandle winning = winner.acquired.getNow(null);
        assertThat(winning).as("%s's acquire failed: %s", winner.label, winner.failures).isNotNull();
        assertThat(winning.token()).isGreaterThan(held.token());
        long owner = ephemeralOwnerOf(a.curator(), lockPath(name), winning.token());
        assertThat(owner).as("%s was granted the lock on a node of session 0x%s, its current session is 0x%s",
                winner.label, Long.toHexString(owner),
                Long.toHexString(winnerClient.curator().getZookeeperClient().getZooKeeper().getSessionId()))
                .isEqualTo(winnerClient.curator().getZookeeperClient().getZooKeeper().getSessionId());

        // well past the moment the restored sessions expire on the server: still that one holder
        await("the loser stays out and the winner stays valid while the old sessions end")
                .during(Duration.ofMillis(2 * SESSION.toMillis()))
                .atMost(Duration.ofMillis(2 * SESSION.toMillis() + 2000))
                .until(() -> !loser.acquired.isDone() && winning.isValid());
        List<LockHolder> line = lockA.holders();
        assertThat(line).filteredOn(LockHolder::holding).extracting(LockHolder::token).containsExactly(winning.token());
        assertThat(line).hasSize(2);

        winning.commit(b.curator().transactionOp().setData().forPath(resource, "winner".getBytes(UTF_8)));
        assertThat(a.curator().getData().forPath(resource)).asString(UTF_8).isEqualTo("winner");
        assertThatThrownBy(() -> held.commit(a.curator().transactionOp().setData().forPath(resource, "stale".getBytes(UTF_8))))
                .isInstanceOf(LeadershipLostException.class);
        assertThat(a.curator().getData().forPath(resource)).asString(UTF_8).isEqualTo("winner");

        winner.release.countDown();
        LockHandle next = loser.acquired.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(next.token()).isGreaterThan(winning.token());
        loser.release.countDown();
        checker.close();
        System.out.println("LockOutageIT: " + checker.samples.get() + " samples; " + winner.label + " won; waiter B saw "
                + waiterB.failures + ", C saw " + waiterC.failures + "; lost heard by B " + heardLostByB + ", by C "
                + heardLostByC + "; A's close took " + holderA.closeMillis + " ms");
        assertThat(checker.violations).as("moments at which two handles were valid at once").isEmpty();
    }

    /** The ephemeral owner of the lock node whose czxid is {@code token}. */
    private static long ephemeralOwnerOf(CuratorFramework curator, String parent, FencingToken token) throws Exception {
        for (String child : children(curator, parent)) {
            Stat stat = curator.checkExists().forPath(parent + "/" + child);
            if (stat != null && stat.getCzxid() == token.value()) {
                return stat.getEphemeralOwner();
            }
        }
        throw new AssertionError("no node under " + parent + " has czxid " + token.value());
    }

    /**
     * Takes the lock on a thread of its own and closes the handle there once its listener heard
     * the hold lost.
     */
    private static final class Holder implements AutoCloseable {
        final CompletableFuture<LockHandle> acquired = new CompletableFuture<>();
        final CompletableFuture<Throwable> closed = new CompletableFuture<>();
        volatile long closeMillis = -1;
        final Thread thread;

        Holder(DistributedLock lock, List<FencingToken> heardLost) {
            thread = new Thread(() -> {
                LockHandle h;
                try {
                    h = lock.acquire();
                } catch (Throwable e) {
                    acquired.completeExceptionally(e);
                    return;
                }
                acquired.complete(h);
                try {
                    await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(5))
                            .until(() -> heardLost.contains(h.token()));
                } catch (Throwable e) {
                    // the test fails on its own; release anyway
                }
                long start = System.nanoTime();
                try {
                    h.close();
                    closed.complete(null);
                } catch (Throwable e) {
                    closed.complete(e);
                }
                closeMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            }, "holder-A");
            thread.setDaemon(true);
            thread.start();
        }

        @Override
        public void close() throws InterruptedException {
            thread.interrupt();
            thread.join(5000);
        }
    }

    @Test
    void timedCallsReturnWithinTheirBoundWhileTheServerIsDown(TestInfo info) throws Exception {
        String name = "outage/" + info.getTestMethod().orElseThrow().getName();
        String heldName = name + "-held";
        Duration connectionTimeout = Duration.ofSeconds(2);
        ZkRecipes zk = ZkRecipes.builder()
                .connectString(server.getConnectString())
                .sessionTimeout(Duration.ofSeconds(4))
                .connectionTimeout(connectionTimeout)
                .retryPolicy(new RetryNTimes(20, 100))
                .build();
        closeAfter.add(zk);
        zk.start();
        assertThat(zk.awaitConnected(Duration.ofSeconds(10))).isTrue();
        ZkRecipes fresh = client(SESSION);
        AtomicInteger suspended = new AtomicInteger();
        zk.curator().getConnectionStateListenable().addListener((c, state) -> {
            if (state == ConnectionState.SUSPENDED) {
                suspended.incrementAndGet();
            }
        });
        DistributedLock free = DistributedLock.of(zk, name);
        DistributedLock taken = DistributedLock.of(zk, heldName);

        // outage 1, shorter than the session: timed acquires of a free lock
        long session = zk.curator().getZookeeperClient().getZooKeeper().getSessionId();
        stopServer("to time acquires against nothing");
        await().atMost(WAIT).until(() -> suspended.get() == 1);
        long start = System.nanoTime();
        Optional<LockHandle> got = free.tryAcquire(Duration.ofMillis(200));
        long tryMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(got).isEmpty();
        assertThat(tryMillis).as("tryAcquire(200 ms) with the server down took %d ms", tryMillis).isLessThan(1200);
        start = System.nanoTime();
        assertThat(free.tryAcquire(Duration.ZERO)).isEmpty();
        long onceMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(onceMillis).as("tryAcquire(0) with the server down took %d ms", onceMillis).isLessThan(1000);
        restartServer();
        await().atMost(WAIT).until(() -> zk.curator().getZookeeperClient().isConnected());
        boolean keptSession = zk.curator().getZookeeperClient().getZooKeeper().getSessionId() == session;
        // on a session that survived, a create Curator sent late would stay for good unless the
        // client deletes it; on an expired one it goes when the server expires the restored session
        await("no node is left behind by the timed-out acquires").atMost(WAIT)
                .untilAsserted(() -> assertThat(children(fresh.curator(), lockPath(name))).isEmpty());

        // outage 2: releasing a held lock
        LockHandle held = taken.acquire();
        stopServer("to time a release against nothing");
        await().atMost(WAIT).until(() -> suspended.get() == 2);
        start = System.nanoTime();
        assertThatCode(held::close).doesNotThrowAnyException();
        long closeMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(closeMillis).as("close() with the server down took %d ms", closeMillis)
                .isLessThan(connectionTimeout.toMillis() + 1000);
        restartServer();
        await("the released lock's node is gone once the server is back").atMost(WAIT)
                .untilAsserted(() -> assertThat(children(fresh.curator(), lockPath(heldName))).isEmpty());
        System.out.println("LockOutageIT: tryAcquire(200 ms) " + tryMillis + " ms, tryAcquire(0) " + onceMillis
                + " ms, close() " + closeMillis + " ms while the server was down; the session "
                + (keptSession ? "survived" : "did not survive") + " the first outage");

        await().atMost(WAIT).until(() -> zk.curator().getZookeeperClient().isConnected());
        Optional<LockHandle> after = free.tryAcquire(Duration.ofSeconds(5));
        assertThat(after).as("the free lock is taken once the server is back").isPresent();
        after.get().close();
    }
}
