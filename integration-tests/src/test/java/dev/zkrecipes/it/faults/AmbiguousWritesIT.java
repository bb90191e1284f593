package dev.zkrecipes.it.faults;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.zkrecipes.core.AlreadyExistsException;
import dev.zkrecipes.core.ConnectionLossException;
import dev.zkrecipes.core.FencingToken;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.election.LeaderElector;
import dev.zkrecipes.election.Leadership;
import dev.zkrecipes.lock.DistributedLock;
import dev.zkrecipes.lock.DistributedReadWriteLock;
import dev.zkrecipes.lock.DistributedSemaphore;
import dev.zkrecipes.lock.LockHandle;
import dev.zkrecipes.lock.Permit;
import dev.zkrecipes.testing.EmbeddedZk;
import dev.zkrecipes.testing.LoopbackProxy;
import dev.zkrecipes.testing.LoopbackProxy.LostReply;
import dev.zkrecipes.testing.LoopbackProxy.Opcodes;
import dev.zkrecipes.testing.ProxiedClient;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The writes of election and locks under the ambiguous faults: a reply lost after the server
 * applied the request, a caller interrupted while its request is in flight, the ensemble
 * unreachable past the caller's bound. Each write must end applied, not applied, or unknown
 * (a ConnectionLossException that says so), leave no node that nobody owns, and leave the recipe
 * usable by others within a stated bound.
 */
class AmbiguousWritesIT {

    @RegisterExtension
    static final EmbeddedZk zk = EmbeddedZk.withClients(1);

    private static final Duration SESSION = Duration.ofSeconds(4);
    private static final Duration WAIT = Duration.ofSeconds(15);
    private static final AtomicInteger NAMES = new AtomicInteger();

    /** Each lock kind, seen through what its holds have in common. */
    enum Kind {
        MUTEX("locks"), READ("locks"), WRITE("locks"), PERMIT("semaphores");

        final String root;

        Kind(String root) {
            this.root = root;
        }

        Optional<Hold> tryAcquire(ZkRecipes client, String name, Duration timeout) throws InterruptedException {
            return switch (this) {
                case MUTEX -> DistributedLock.of(client, name).tryAcquire(timeout).map(Hold::of);
                case READ -> DistributedReadWriteLock.of(client, name).readLock().tryAcquire(timeout).map(Hold::of);
                case WRITE -> DistributedReadWriteLock.of(client, name).writeLock().tryAcquire(timeout).map(Hold::of);
                case PERMIT -> DistributedSemaphore.of(client, name, 1).tryAcquire(timeout).map(Hold::of);
            };
        }

        /** Something that excludes this kind: the same kind, except readers, whom a writer excludes. */
        Optional<Hold> tryExclude(ZkRecipes client, String name, Duration timeout) throws InterruptedException {
            return this == READ ? WRITE.tryAcquire(client, name, timeout) : tryAcquire(client, name, timeout);
        }

        String parent(String name) {
            return "/zkr/" + root + "/" + name;
        }
    }

    /** A lock handle or a permit. */
    interface Hold extends AutoCloseable {
        FencingToken token();

        boolean isValid();

        List<CuratorTransactionResult> commit(CuratorOp... ops);

        @Override
        void close();

        static Hold of(LockHandle h) {
            return new Hold() {
                public FencingToken token() { return h.token(); }
                public boolean isValid() { return h.isValid(); }
                public List<CuratorTransactionResult> commit(CuratorOp... ops) { return h.commit(ops); }
                public void close() { h.close(); }
            };
        }

        static Hold of(Permit p) {
            return new Hold() {
                public FencingToken token() { return p.token(); }
                public boolean isValid() { return p.isValid(); }
                public List<CuratorTransactionResult> commit(CuratorOp... ops) { return p.commit(ops); }
                public void close() { p.close(); }
            };
        }
    }

    private static String newName(String what) {
        return "ambiguous/" + what + "-" + NAMES.incrementAndGet();
    }

    private static ZkRecipes observer() {
        return zk.client(0);
    }

    private static List<String> children(String path) throws Exception {
        return observer().curator().checkExists().forPath(path) == null ? List.of()
                : observer().curator().getChildren().forPath(path);
    }

    private static long czxid(String path) throws Exception {
        Stat stat = observer().curator().checkExists().forPath(path);
        assertThat(stat).as("node %s", path).isNotNull();
        return stat.getCzxid();
    }

    // ---- lost reply ----

    @ParameterizedTest
    @EnumSource(Kind.class)
    void acquireWhoseCreateReplyIsLostHoldsExactlyOneNodeWithItsToken(Kind kind) throws Exception {
        String name = newName("acquire-lost-" + kind);
        try (ProxiedClient victim = zk.proxiedClient(SESSION)) {
            LostReply lost = victim.proxy().loseNextReply(Opcodes.CREATES);

            Hold h = kind.tryAcquire(victim.zk(), name, WAIT).orElseThrow();
            lost.await(Duration.ofSeconds(5));

            List<String> nodes = children(kind.parent(name));
            assertThat(nodes).hasSize(1);
            assertThat(h.token().value()).isEqualTo(czxid(kind.parent(name) + "/" + nodes.get(0)));
            await().atMost(WAIT).until(h::isValid);
            h.close();
            assertThat(children(kind.parent(name))).isEmpty();
            kind.tryExclude(observer(), name, Duration.ofSeconds(2)).orElseThrow().close();
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void releaseWhoseDeleteReplyIsLostFreesTheLock(Kind kind) throws Exception {
        String name = newName("release-lost-" + kind);
        try (ProxiedClient victim = zk.proxiedClient(SESSION)) {
            Hold h = kind.tryAcquire(victim.zk(), name, WAIT).orElseThrow();
            LostReply lost = victim.proxy().loseNextReply(Opcodes.DELETE);

            h.close();
            lost.await(Duration.ofSeconds(5));

            await().atMost(WAIT).until(() -> children(kind.parent(name)).isEmpty());
            kind.tryExclude(observer(), name, WAIT).orElseThrow().close();
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void commitWhoseReplyIsLostIsUnknownAndAppliedOnce(Kind kind) throws Exception {
        String name = newName("commit-lost-" + kind);
        String resource = "/resources/" + name;
        try (ProxiedClient victim = zk.proxiedClient(SESSION)) {
            Hold h = kind.tryAcquire(victim.zk(), name, WAIT).orElseThrow();
            observer().curator().create().creatingParentsIfNeeded().forPath(resource + "-parent");
            LostReply lost = victim.proxy().loseNextReply(Opcodes.MULTI);

            assertThatThrownBy(() -> h.commit(victim.zk().ops().create(resource, "1".getBytes(UTF_8))))
                    .isInstanceOf(ConnectionLossException.class).hasMessageContaining("outcome is unknown");
            lost.await(Duration.ofSeconds(5));

            // applied once, not re-sent: the node is there and a second create finds it
            assertThat(observer().curator().checkExists().forPath(resource)).isNotNull();
            await().atMost(WAIT).until(h::isValid);
            assertThatThrownBy(() -> h.commit(victim.zk().ops().create(resource, "2".getBytes(UTF_8))))
                    .isInstanceOf(AlreadyExistsException.class).hasMessageContaining(resource);
            assertThat(new String(observer().curator().getData().forPath(resource), UTF_8)).isEqualTo("1");
            h.close();
        }
    }

    @Test
    void joinWhoseCreateReplyIsLostStillLeadsWithTheNodesToken() throws Exception {
        String name = newName("join-lost");
        try (ProxiedClient victim = zk.proxiedClient(SESSION)) {
            LostReply lost = victim.proxy().loseNextReply(Opcodes.CREATES);
            try (LeaderElector a = LeaderElector.builder(victim.zk(), name).participantId("a").build()) {
                a.start();
                lost.await(Duration.ofSeconds(5));

                Leadership term = a.awaitLeadership(WAIT).orElseThrow();
                List<String> nodes = children("/zkr/elections/" + name);
                assertThat(nodes).hasSize(1);
                assertThat(term.token().value()).isEqualTo(czxid("/zkr/elections/" + name + "/" + nodes.get(0)));

                a.resign();
                assertThat(term.isValid()).isFalse();
                assertThat(a.awaitLeadership(WAIT).orElseThrow().token()).isGreaterThan(term.token());
            }
            await().atMost(WAIT).until(() -> children("/zkr/elections/" + name).isEmpty());
        }
    }

    @Test
    void resignAndCloseWhoseDeleteRepliesAreLostHandTheLeadOn() throws Exception {
        String name = newName("resign-lost");
        try (ProxiedClient victim = zk.proxiedClient(SESSION);
                LeaderElector a = LeaderElector.builder(victim.zk(), name).participantId("a").build();
                LeaderElector b = LeaderElector.builder(observer(), name).participantId("b").build()) {
            a.start();
            Leadership first = a.awaitLeadership(WAIT).orElseThrow();
            b.start();
            await().atMost(WAIT).until(() -> a.participants().size() == 2);

            LostReply lostResign = victim.proxy().loseNextReply(Opcodes.DELETE);
            a.resign();
            assertThat(first.isValid()).isFalse();
            lostResign.await(Duration.ofSeconds(5));
            Leadership second = b.awaitLeadership(WAIT).orElseThrow();
            assertThat(second.token()).isGreaterThan(first.token());

            b.resign();
            Leadership third = a.awaitLeadership(WAIT).orElseThrow();
            LostReply lostClose = victim.proxy().loseNextReply(Opcodes.DELETE);
            a.close();
            assertThat(third.isValid()).isFalse();
            lostClose.await(Duration.ofSeconds(5));
            assertThat(b.awaitLeadership(WAIT).orElseThrow().token()).isGreaterThan(third.token());
            await().atMost(WAIT).until(() -> children("/zkr/elections/" + name).size() == 1);
        }
    }

    @Test
    void leadersCommitWhoseReplyIsLostIsUnknownAndAppliedOnce() throws Exception {
        String name = newName("term-commit-lost");
        String resource = "/resources/" + name;
        observer().curator().create().creatingParentsIfNeeded().forPath(resource + "-parent");
        try (ProxiedClient victim = zk.proxiedClient(SESSION);
                LeaderElector a = LeaderElector.builder(victim.zk(), name).participantId("a").build()) {
            a.start();
            Leadership term = a.awaitLeadership(WAIT).orElseThrow();
            LostReply lost = victim.proxy().loseNextReply(Opcodes.MULTI);

            assertThatThrownBy(() -> term.commit(victim.zk().ops().create(resource, "1".getBytes(UTF_8))))
                    .isInstanceOf(ConnectionLossException.class).hasMessageContaining("outcome is unknown");
            lost.await(Duration.ofSeconds(5));

            assertThat(observer().curator().checkExists().forPath(resource)).isNotNull();
            await().atMost(WAIT).until(term::isValid);
            assertThat(a.awaitLeadership(WAIT).orElseThrow().token()).isEqualTo(term.token());
            assertThatThrownBy(() -> term.commit(victim.zk().ops().create(resource, "2".getBytes(UTF_8))))
                    .isInstanceOf(AlreadyExistsException.class);
        }
    }

    // ---- caller interrupted while its request is in flight ----

    @ParameterizedTest
    @EnumSource(Kind.class)
    void acquireInterruptedWhileItsCreateIsStalledLeavesNoNode(Kind kind) throws Exception {
        String name = newName("acquire-interrupted-" + kind);
        try (ProxiedClient victim = zk.proxiedClient(SESSION)) {
            victim.proxy().stallRequestsFrom(Opcodes.CREATES);
            CompletableFuture<Throwable> outcome = new CompletableFuture<>();
            Thread caller = new Thread(() -> {
                try {
                    kind.tryAcquire(victim.zk(), name, WAIT);
                    outcome.complete(null);
                } catch (Throwable t) {
                    outcome.complete(t);
                }
            });
            caller.start();
            assertThat(victim.proxy().awaitStalledRequest(Duration.ofSeconds(5))).isTrue();

            caller.interrupt();
            assertThat(outcome.get(5, TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);
            victim.proxy().releaseRequests();

            // the create lands after its caller gave up, and is deleted: nobody waits behind an orphan
            await().atMost(WAIT).until(() -> children(kind.parent(name)).isEmpty());
            kind.tryExclude(observer(), name, Duration.ofSeconds(2)).orElseThrow().close();
        }
    }

    @Test
    void commitInterruptedWhileStalledIsUnknownNeverRefused() throws Exception {
        String name = newName("commit-interrupted");
        String resource = "/resources/" + name;
        observer().curator().create().creatingParentsIfNeeded().forPath(resource + "-parent");
        try (ProxiedClient victim = zk.proxiedClient(SESSION)) {
            Hold h = Kind.MUTEX.tryAcquire(victim.zk(), name, WAIT).orElseThrow();
            victim.proxy().stallRequestsFrom(Opcodes.MULTI);
            CompletableFuture<Throwable> outcome = new CompletableFuture<>();
            Thread caller = new Thread(() -> {
                try {
                    h.commit(victim.zk().ops().create(resource, new byte[0]));
                    outcome.complete(null);
                } catch (Throwable t) {
                    outcome.complete(t);
                }
            });
            caller.start();
            assertThat(victim.proxy().awaitStalledRequest(Duration.ofSeconds(5))).isTrue();

            caller.interrupt();
            assertThat(outcome.get(5, TimeUnit.SECONDS)).isInstanceOf(ConnectionLossException.class)
                    .hasMessageContaining("outcome is unknown");
            victim.proxy().releaseRequests();
            // the transaction was in flight: it lands, as "unknown" allowed
            await().atMost(WAIT).until(() -> observer().curator().checkExists().forPath(resource) != null);
            closeOnItsThread(h);
        }
    }

    // ---- ensemble unreachable past the caller's bound ----

    @ParameterizedTest
    @EnumSource(Kind.class)
    void acquireWhileUnreachableReturnsInTimeAndLeavesNothingBehind(Kind kind) throws Exception {
        String name = newName("acquire-unreachable-" + kind);
        try (ProxiedClient victim = zk.proxiedClient(SESSION)) {
            victim.proxy().blackhole();
            long start = System.nanoTime();

            assertThat(kind.tryAcquire(victim.zk(), name, Duration.ofMillis(500))).isEmpty();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(500 + 1500));

            victim.proxy().heal();
            // whatever the held bytes do once delivered, no node of the victim stays in line
            await().atMost(WAIT).until(() -> children(kind.parent(name)).isEmpty());
            Hold h = kind.tryAcquire(victim.zk(), name, WAIT).orElseThrow();
            h.close();
        }
    }

    /** LockHandle.close() must run on the acquiring thread; a permit may close anywhere. */
    private static void closeOnItsThread(Hold h) {
        h.close();
    }

    @SuppressWarnings("unused")
    private static <T> T get(CompletableFuture<T> f) throws InterruptedException, ExecutionException {
        return f.get();
    }
}
