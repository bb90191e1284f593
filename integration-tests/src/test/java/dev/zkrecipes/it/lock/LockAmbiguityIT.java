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
import dev.zkrecipes.lock.DistributedReadWriteLock;
import dev.zkrecipes.lock.LockHandle;
import dev.zkrecipes.lock.LockHolder;
import dev.zkrecipes.lock.LockListener;
import dev.zkrecipes.testing.ClientWatchers;
import dev.zkrecipes.testing.Clients;
import dev.zkrecipes.testing.EmbeddedZk;
import dev.zkrecipes.testing.LoopbackProxy;
import dev.zkrecipes.testing.ProxiedClient;
import dev.zkrecipes.testing.ZkServers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.TestInfo;

/**
 * The lock under ambiguous faults on one shared server: a silent network (blackhole), a session
 * expired behind the holder's back, an operator's hands in the lock's znodes, interrupts, timed
 * calls that give up, and the ways one process can reach one lock twice (two objects of one name,
 * a mutex and a read/write lock of one name, a downgrade with a writer queued).
 */
class LockAmbiguityIT {

    @RegisterExtension
    static final EmbeddedZk zk = EmbeddedZk.server();

    private static final Duration SESSION = Duration.ofSeconds(3);
    private static final Duration WAIT = Duration.ofSeconds(10);

    private final List<AutoCloseable> closeAfter = new ArrayList<>();
    private String name;

    @BeforeEach
    void name(TestInfo info) {
        name = "ambiguity/" + info.getTestMethod().orElseThrow().getName();
    }

    @AfterEach
    void cleanUp() {
        for (int i = closeAfter.size() - 1; i >= 0; i--) {
            ZkServers.closeQuietly(closeAfter.get(i));
        }
    }

    /** A client on its own 3 s session, straight to the server; closed after the test. */
    private ZkRecipes client() {
        ZkRecipes c = Clients.connect(zk.connectString(), SESSION);
        closeAfter.add(c);
        return c;
    }

    /** A client on its own 3 s session behind its own fault proxy; closed after the test. */
    private ProxiedClient proxied() {
        ProxiedClient c = zk.proxiedClient(SESSION);
        closeAfter.add(c);
        return c;
    }

    private String parent() {
        return "/zkr/locks/" + name;
    }

    /** The lock nodes (and anything else) under the lock's parent, read by {@code curator} now. */
    private List<String> children(CuratorFramework curator) throws Exception {
        try {
            return curator.getChildren().forPath(parent());
        } catch (KeeperException.NoNodeException e) {
            return List.of();
        }
    }

    /** Whether a child of the lock's parent has czxid {@code token}. */
    private boolean hasNodeWithToken(CuratorFramework curator, FencingToken token) throws Exception {
        for (String child : children(curator)) {
            Stat stat = curator.checkExists().forPath(parent() + "/" + child);
            if (stat != null && stat.getCzxid() == token.value()) {
                return true;
            }
        }
        return false;
    }

    /** The name of the child whose czxid is {@code token}. */
    private String nodeOf(CuratorFramework curator, FencingToken token) throws Exception {
        for (String child : children(curator)) {
            Stat stat = curator.checkExists().forPath(parent() + "/" + child);
            if (stat != null && stat.getCzxid() == token.value()) {
                return child;
            }
        }
        throw new AssertionError("no child of " + parent() + " has czxid " + token.value() + ": " + children(curator));
    }

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

    private LockThread lockThread(String label, Callable<LockHandle> acquire) {
        LockThread t = new LockThread(label, acquire);
        closeAfter.add(t);
        return t;
    }

    // ---------------------------------------------------------------------------------------------
    // bounds and leftovers

    @Test
    void tryAcquireReturnsWithinItsTimeoutWhileBlackholed() throws Exception {
        ProxiedClient a = proxied();
        ZkRecipes observer = client();
        DistributedLock lock = DistributedLock.of(a.zk(), name);

        Optional<LockHandle> once = lock.tryAcquire(Duration.ZERO);
        assertThat(once).as("tryAcquire(0) on a free lock while connected tries once and gets it").isPresent();
        assertThat(once.get().isValid()).isTrue();
        once.get().close();

        a.proxy().blackhole();
        long start = System.nanoTime();
        Optional<LockHandle> got = lock.tryAcquire(Duration.ofMillis(200));
        long silentMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(got).isEmpty();
        assertThat(silentMillis).as("tryAcquire(200 ms) into a silent network took %d ms", silentMillis).isLessThan(1200);
        start = System.nanoTime();
        assertThat(lock.tryAcquire(Duration.ZERO)).isEmpty();
        long onceMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(onceMillis).as("tryAcquire(0) into a silent network took %d ms", onceMillis).isLessThan(1000);
        // healed within the session: the creates the proxy held now land on the live session, after
        // their callers gave up; the client must delete them itself (no session expiry will)
        a.proxy().heal();

        await("the creates that landed after their callers gave up are deleted").atMost(WAIT)
                .untilAsserted(() -> assertThat(children(observer.curator())).isEmpty());
        Optional<LockHandle> other = DistributedLock.of(observer, name).tryAcquire(Duration.ofSeconds(2));
        assertThat(other).as("another client takes the free lock after the heal").isPresent();
        other.get().close();

        // the same once the client has noticed the silence (SUSPENDED)
        List<ConnectionState> states = new CopyOnWriteArrayList<>();
        a.zk().curator().getConnectionStateListenable().addListener((c, s) -> states.add(s));
        a.proxy().blackhole();
        await().atMost(WAIT).until(() -> states.contains(ConnectionState.SUSPENDED));
        start = System.nanoTime();
        assertThat(lock.tryAcquire(Duration.ofMillis(200))).isEmpty();
        long suspendedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(suspendedMillis).as("tryAcquire(200 ms) while SUSPENDED took %d ms", suspendedMillis).isLessThan(1200);
        a.proxy().heal();
        await("nothing is left behind once the client is back").atMost(Duration.ofSeconds(15))
                .untilAsserted(() -> assertThat(children(observer.curator())).isEmpty());
        System.out.println("LockAmbiguityIT: blackholed tryAcquire(200 ms) " + silentMillis + " ms, tryAcquire(0) "
                + onceMillis + " ms, SUSPENDED tryAcquire(200 ms) " + suspendedMillis + " ms");
    }

    @Test
    void timedOutAcquiresLeaveNoWatchersAndNoNodes() throws Exception {
        ZkRecipes holderClient = client();
        ZkRecipes waiterClient = client();
        DistributedLock lock = DistributedLock.of(waiterClient, name);
        LockThread holder = lockThread("holder", () -> DistributedLock.of(holderClient, name).acquire());
        LockHandle held = holder.handle(WAIT);
        String holderNode = nodeOf(waiterClient.curator(), held.token());
        int before = clientWatchers(waiterClient);

        for (int i = 0; i < 200; i++) {
            assertThat(lock.tryAcquire(Duration.ZERO)).as("attempt %d", i).isEmpty();
        }

        await("the waiter's client holds no watchers of the timed-out acquires (before: " + before + ")")
                .atMost(WAIT).untilAsserted(() -> assertThat(clientWatchers(waiterClient)).isLessThanOrEqualTo(before + 2));
        await("only the holder's node is left").atMost(WAIT)
                .untilAsserted(() -> assertThat(children(waiterClient.curator())).containsExactly(holderNode));
        assertThat(held.isValid()).isTrue();
        holder.releaseAndWait(WAIT);
        Optional<LockHandle> next = lock.tryAcquire(Duration.ofSeconds(2));
        assertThat(next).isPresent();
        next.get().close();
    }

    @Test
    void interruptedAcquireLeavesNoNode() throws Exception {
        ZkRecipes holderClient = client();
        ProxiedClient waiter = proxied();
        LockThread holder = lockThread("holder", () -> DistributedLock.of(holderClient, name).acquire());
        String holderNode = nodeOf(holderClient.curator(), holder.handle(WAIT).token());
        DistributedLock lock = DistributedLock.of(waiter.zk(), name);

        // interrupted while it waits behind the holder
        CompletableFuture<Throwable> outcome = new CompletableFuture<>();
        Thread t = new Thread(() -> outcome.complete(acquireAndRelease(lock)), "interrupted-waiter");
        t.setDaemon(true);
        t.start();
        await().atMost(WAIT).until(() -> children(holderClient.curator()).size() == 2);
        t.interrupt();
        assertThat(outcome.get(5, TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);
        await("the interrupted waiter's node is gone").atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(children(holderClient.curator())).containsExactly(holderNode));

        // interrupted while its create is held in the network, which then lets it through: the
        // node lands after the caller got InterruptedException, on a live session
        waiter.proxy().stallRequestsFrom(LoopbackProxy.Opcodes.CREATES);
        CompletableFuture<Throwable> stalled = new CompletableFuture<>();
        Thread s = new Thread(() -> stalled.complete(acquireAndRelease(lock)), "stalled-waiter");
        s.setDaemon(true);
        s.start();
        assertThat(waiter.proxy().awaitStalledRequest(WAIT)).isTrue();
        s.interrupt();
        assertThat(stalled.get(5, TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);
        waiter.proxy().releaseRequests();
        await("the create that landed after the interrupt is deleted").atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(children(holderClient.curator())).containsExactly(holderNode));

        holder.releaseAndWait(WAIT);
        Optional<LockHandle> next = lock.tryAcquire(Duration.ofSeconds(2));
        assertThat(next).as("the interrupted client takes the lock once it is free").isPresent();
        next.get().close();
    }

    /** Acquires and releases; returns what was thrown, or null. */
    private static Throwable acquireAndRelease(DistributedLock lock) {
        try {
            lock.acquire().close();
            return null;
        } catch (Throwable e) {
            return e;
        }
    }

    // ---------------------------------------------------------------------------------------------
    // the holder's node in other hands

    @Test
    void operatorDeletingTheHoldersNodeEndsTheHold() throws Exception {
        ZkRecipes a = client();
        ZkRecipes b = client();
        ZkRecipes operator = client();
        String resource = "/resource/" + name;
        operator.curator().create().creatingParentsIfNeeded().forPath(resource, new byte[0]);
        DistributedLock lockA = DistributedLock.of(a, name);
        List<FencingToken> lost = lostTokens(lockA);
        LockHandle held = lockA.acquire();
        LockThread waiter = lockThread("B", () -> DistributedLock.of(b, name).acquire());
        await().atMost(WAIT).until(() -> children(operator.curator()).size() == 2);

        operator.curator().delete().forPath(parent() + "/" + nodeOf(operator.curator(), held.token()));

        await("the holder notices its node is gone").atMost(WAIT).until(() -> !held.isValid());
        await("and its listener hears it lost").atMost(WAIT).until(() -> lost.contains(held.token()));
        LockHandle next = waiter.handle(WAIT);
        assertThat(next.token()).isGreaterThan(held.token());
        assertThat(next.isValid()).isTrue();
        assertThatThrownBy(() -> held.commit(a.curator().transactionOp().setData().forPath(resource, "stale".getBytes(UTF_8))))
                .isInstanceOf(LeadershipLostException.class);
        assertThat(operator.curator().getData().forPath(resource)).isEmpty();
        assertThatCode(held::close).doesNotThrowAnyException();
        next.commit(b.curator().transactionOp().setData().forPath(resource, "next".getBytes(UTF_8)));
        assertThat(operator.curator().getData().forPath(resource)).asString(UTF_8).isEqualTo("next");
        assertThat(lost).containsExactly(held.token());
        waiter.releaseAndWait(WAIT);
    }

    @Test
    void operatorDeletingAWaitersNodeMakesItQueueAgainInsteadOfHoldingNothing() throws Exception {
        ZkRecipes a = client();
        ZkRecipes b = client();
        ZkRecipes operator = client();
        DistributedLock lockB = DistributedLock.of(b, name);
        List<FencingToken> lostByB = lostTokens(lockB);
        LockThread holder = lockThread("A", () -> DistributedLock.of(a, name).acquire());
        String holderNode = nodeOf(operator.curator(), holder.handle(WAIT).token());
        LockThread waiter = lockThread("B", lockB::acquire);
        await().atMost(WAIT).until(() -> children(operator.curator()).size() == 2);
        String waiterNode = children(operator.curator()).stream().filter(n -> !n.equals(holderNode)).findFirst().orElseThrow();

        operator.curator().delete().forPath(parent() + "/" + waiterNode);
        holder.releaseAndWait(WAIT);

        // B's own node is gone: B must queue again with a new node and be granted on that one,
        // never return a hold on the deleted node (which no one else's line contains any more)
        LockHandle got = waiter.handle(WAIT);
        List<String> line = children(operator.curator());
        assertThat(hasNodeWithToken(operator.curator(), got.token()))
                .as("B's acquire returned a hold (token %s) on its node %s, which the operator had deleted; the line is %s",
                        got.token(), waiterNode, line)
                .isTrue();
        String grantedOn = nodeOf(operator.curator(), got.token());
        Stat stat = operator.curator().checkExists().forPath(parent() + "/" + grantedOn);
        assertThat(stat.getEphemeralOwner()).isEqualTo(b.curator().getZookeeperClient().getZooKeeper().getSessionId());
        await("B's hold stays valid").during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2)).until(got::isValid);
        assertThat(lostByB).as("B was told it lost a hold it was just granted").isEmpty();
        waiter.releaseAndWait(WAIT);
    }

    @Test
    void commitThatFindsTheNodeGoneIsAnnouncedAsLost() throws Exception {
        ProxiedClient a = proxied();
        ZkRecipes other = client();
        String resource = "/resource/" + name;
        other.curator().create().creatingParentsIfNeeded().forPath(resource, new byte[0]);
        DistributedLock lockA = DistributedLock.of(a.zk(), name);
        List<FencingToken> lost = lostTokens(lockA);
        LockHandle held = lockA.acquire();

        a.proxy().blackhole();
        a.expireSession();
        await("the server dropped the holder's node with its session").atMost(WAIT)
                .until(() -> children(other.curator()).isEmpty());
        a.proxy().heal();

        // the first commit may race the client's discovery: sent on the dying connection, its honest
        // answer is "unknown" (ConnectionLossException); a commit is never applied, and within a
        // few seconds one is refused with LeadershipLostException
        List<String> outcomes = new CopyOnWriteArrayList<>();
        await("a commit is refused because the hold is gone").atMost(WAIT).pollInterval(Duration.ofMillis(50))
                .until(() -> {
                    try {
                        held.commit(a.zk().curator().transactionOp().setData().forPath(resource, "stale".getBytes(UTF_8)));
                        outcomes.add("applied");
                        return true;
                    } catch (LeadershipLostException e) {
                        outcomes.add("refused: " + e.getMessage());
                        return true;
                    } catch (ConnectionLossException e) {
                        outcomes.add("unknown");
                        return false;
                    }
                });
        System.out.println("LockAmbiguityIT: commits after the heal: " + outcomes);
        assertThat(outcomes).doesNotContain("applied");
        assertThat(outcomes.get(outcomes.size() - 1)).startsWith("refused");
        assertThat(other.curator().getData().forPath(resource)).isEmpty();
        await("the loss is announced").atMost(WAIT).until(() -> !lost.isEmpty());
        await("exactly once").during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3))
                .until(() -> lost.size() == 1);
        assertThat(lost).containsExactly(held.token());
        assertThat(held.isValid()).isFalse();
        assertThatCode(held::close).doesNotThrowAnyException();
        Optional<LockHandle> again = lockA.tryAcquire(WAIT);
        assertThat(again).as("the client takes the lock again on its new session").isPresent();
        assertThat(again.get().token()).isGreaterThan(held.token());
        again.get().close();
    }

    @Test
    void foreignChildrenUnderTheLockDoNotBlockIt() throws Exception {
        ZkRecipes operator = client();
        ZkRecipes a = client();
        ZkRecipes b = client();
        CuratorFramework op = operator.curator();
        op.create().creatingParentsIfNeeded().withMode(CreateMode.PERSISTENT).forPath(parent() + "/zzz-0000000000", new byte[0]);
        op.create().withMode(CreateMode.PERSISTENT).forPath(parent() + "/garbage", "not a lock node".getBytes(UTF_8));
        try {
            DistributedLock lock = DistributedLock.of(a, name);
            Optional<LockHandle> got = lock.tryAcquire(Duration.ofSeconds(1));
            assertThat(got).as("a free lock with foreign children is taken").isPresent();
            LockHandle held = got.get();
            List<LockHolder> holders = lock.holders();
            assertThat(holders).extracting(LockHolder::token).containsExactly(held.token());
            assertThat(holders).allMatch(LockHolder::holding).extracting(LockHolder::kind).containsExactly("lock");

            DistributedLock lockB = DistributedLock.of(b, name);
            assertThat(lockB.tryAcquire(Duration.ofMillis(300))).as("the foreign children do not let B in").isEmpty();
            held.close();
            Optional<LockHandle> next = lockB.tryAcquire(Duration.ofSeconds(1));
            assertThat(next).isPresent();
            assertThat(lockB.holders()).extracting(LockHolder::token).containsExactly(next.get().token());
            next.get().close();
            assertThat(children(op)).containsExactlyInAnyOrder("zzz-0000000000", "garbage");
        } finally {
            op.delete().quietly().forPath(parent() + "/zzz-0000000000");
            op.delete().quietly().forPath(parent() + "/garbage");
        }
    }

    // ---------------------------------------------------------------------------------------------
    // one process, one lock, several objects

    @Test
    void sameNameTwiceInOneThreadReenters() throws Exception {
        ZkRecipes a = client();
        ZkRecipes b = client();
        DistributedLock first = DistributedLock.of(a, name);
        DistributedLock second = DistributedLock.of(a, name);
        DistributedLock otherClient = DistributedLock.of(b, name);

        LockHandle outer = first.tryAcquire(Duration.ofSeconds(1)).orElseThrow();
        Optional<LockHandle> inner = second.tryAcquire(Duration.ofSeconds(1));
        assertThat(inner).as("the second object of the same name lets the holding thread re-enter").isPresent();
        assertThat(inner.get().token()).isEqualTo(outer.token());
        assertThat(children(a.curator())).hasSize(1);
        assertThat(otherClient.tryAcquire(Duration.ofMillis(300))).isEmpty();

        inner.get().close();
        assertThat(outer.isValid()).isTrue();
        assertThat(otherClient.tryAcquire(Duration.ofMillis(300))).as("one level is still held").isEmpty();

        outer.close();
        Optional<LockHandle> theirs = otherClient.tryAcquire(Duration.ofSeconds(2));
        assertThat(theirs).isPresent();
        assertThat(theirs.get().token()).isGreaterThan(outer.token());
        theirs.get().close();
    }

    @Test
    void mutexAndReadWriteLockOfOneNameExclude() throws Exception {
        ZkRecipes a = client();
        ZkRecipes b = client();
        DistributedLock mutex = DistributedLock.of(a, name);
        DistributedReadWriteLock rw = DistributedReadWriteLock.of(b, name);

        LockHandle held = mutex.acquire();
        assertThat(rw.readLock().tryAcquire(Duration.ofMillis(300))).as("a reader while the mutex is held").isEmpty();
        assertThat(rw.writeLock().tryAcquire(Duration.ofMillis(300))).as("a writer while the mutex is held").isEmpty();
        held.close();

        LockHandle read = rw.readLock().tryAcquire(Duration.ofSeconds(1)).orElseThrow();
        assertThat(mutex.tryAcquire(Duration.ofMillis(300))).as("the mutex while a reader holds").isEmpty();
        read.close();
        LockHandle write = rw.writeLock().tryAcquire(Duration.ofSeconds(1)).orElseThrow();
        assertThat(mutex.tryAcquire(Duration.ofMillis(300))).as("the mutex while a writer holds").isEmpty();
        write.close();
        Optional<LockHandle> again = mutex.tryAcquire(Duration.ofSeconds(1));
        assertThat(again).isPresent();
        again.get().close();
    }

    @Test
    void downgradeWithAQueuedWriterKeepsTheWriterOut() throws Exception {
        ZkRecipes a = client();
        ZkRecipes b = client();
        DistributedReadWriteLock rwA = DistributedReadWriteLock.of(a, name);
        LockHandle write = rwA.writeLock().acquire();
        LockThread writerB = lockThread("writer-B", () -> DistributedReadWriteLock.of(b, name).writeLock().acquire());
        await().atMost(WAIT).until(() -> rwA.writeLock().holders().size() == 2);

        LockHandle read = rwA.readLock().tryAcquire(Duration.ZERO).orElseThrow();
        write.close();

        await("B's write lock stays out while A's downgraded read lock is held")
                .during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2))
                .until(() -> !writerB.acquired.isDone() && read.isValid());
        assertThat(rwA.readLock().holders()).filteredOn(LockHolder::holding).extracting(LockHolder::kind)
                .containsExactly("read");

        read.close();
        LockHandle bWrite = writerB.handle(WAIT);
        assertThat(bWrite.isValid()).isTrue();
        assertThat(bWrite.token()).isGreaterThan(write.token());
        writerB.releaseAndWait(WAIT);
    }

    @Test
    void readLockAfterTheWriteHoldWasLostWaitsForTheNewWriter() throws Exception {
        ProxiedClient a = proxied();
        ZkRecipes b = client();
        DistributedReadWriteLock rwA = DistributedReadWriteLock.of(a.zk(), name);
        List<FencingToken> lostByA = lostTokens(rwA.writeLock());
        LockHandle write = rwA.writeLock().acquire();
        LockThread writerB = lockThread("writer-B", () -> DistributedReadWriteLock.of(b, name).writeLock().acquire());
        await().atMost(WAIT).until(() -> rwA.writeLock().holders().size() == 2);

        // A's session ends behind its back (a pause, a partition); B is granted the write lock
        long oldSession = a.zk().curator().getZookeeperClient().getZooKeeper().getSessionId();
        a.expireSession();
        LockHandle bWrite = writerB.handle(WAIT);
        await("A hears its write hold lost").atMost(WAIT).until(() -> lostByA.contains(write.token()));
        await("A is back on a new session").atMost(WAIT).until(() -> a.zk().curator().getZookeeperClient().isConnected()
                && a.zk().curator().getZookeeperClient().getZooKeeper().getSessionId() != oldSession);
        assertThat(write.isValid()).isFalse();
        assertThat(bWrite.isValid()).isTrue();

        // the thread that acquired the (lost, not yet closed) write lock asks for the read lock, the
        // downgrade pattern: it no longer holds the write lock, so it must queue behind B's writer
        // (or be told, as a re-entry would be, that its outer hold is lost)
        Optional<LockHandle> read;
        try {
            read = rwA.readLock().tryAcquire(Duration.ofMillis(500));
        } catch (LeadershipLostException refused) {
            read = Optional.empty();
        }
        try {
            assertThat(read).as("A was granted the read lock (%s) while B holds the write lock (%s, valid=%s)",
                    read.map(Object::toString).orElse(""), bWrite, bWrite.isValid()).isEmpty();
        } finally {
            read.ifPresent(LockHandle::close);
            write.close();
        }
        writerB.releaseAndWait(WAIT);
    }

    // ---------------------------------------------------------------------------------------------

    /** The watchers a client's ZooKeeper handle keeps, summed over tables and paths. */
    private static int clientWatchers(ZkRecipes client) throws Exception {
        return ClientWatchers.count(client);
    }
}
