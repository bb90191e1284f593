package dev.zkrecipes.it.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.zkrecipes.config.ConfigStore;
import dev.zkrecipes.config.FileMetadataStore;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.election.LeaderElector;
import dev.zkrecipes.election.LeaderObserver;
import dev.zkrecipes.election.Leadership;
import dev.zkrecipes.election.LeadershipListener;
import dev.zkrecipes.election.RevocationReason;
import dev.zkrecipes.queue.ConsumeOptions;
import dev.zkrecipes.queue.Serializers;
import dev.zkrecipes.queue.Subscription;
import dev.zkrecipes.queue.TaskQueue;
import dev.zkrecipes.testing.Clients;
import dev.zkrecipes.testing.EmbeddedZk;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.imps.CuratorFrameworkState;
import org.apache.curator.retry.RetryOneTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Closing a client ends every recipe built on it: terms revoked with a reason, nodes gone at once
 * (not when the session times out), handles refusing use, threads gone. A wrapped client's recipes
 * likewise when the wrapper closes, the wrapped Curator left open.
 */
class ClientCloseIT {

    @RegisterExtension
    static final EmbeddedZk zk = EmbeddedZk.withClients(1);

    private static final Duration WAIT = Duration.ofSeconds(10);

    private static long threadsNamed(String prefix) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.isAlive() && t.getName().startsWith(prefix)).count();
    }

    @Test
    void closingTheClientEndsItsElectorsObserversStoresAndConsumers() throws Exception {
        ZkRecipes client = Clients.connect(zk.connectString(), Duration.ofSeconds(30));
        List<RevocationReason> revoked = new CopyOnWriteArrayList<>();
        java.util.Set<Thread> callbackThreads = java.util.concurrent.ConcurrentHashMap.newKeySet();
        LeaderElector elector = LeaderElector.builder(client, "close-all").participantId("a").listener(new LeadershipListener() {
            @Override
            public void elected(Leadership term) {
                callbackThreads.add(Thread.currentThread());
            }

            @Override
            public void revoked(Leadership term, RevocationReason reason) {
                callbackThreads.add(Thread.currentThread());
                revoked.add(reason);
            }
        }).build();
        elector.start();
        assertThat(elector.awaitLeadership(WAIT)).isPresent();
        LeaderObserver observer = LeaderObserver.of(client, "close-all");
        ConfigStore store = ConfigStore.open(client, "close-all");
        FileMetadataStore files = FileMetadataStore.open(client, "close-all");
        TaskQueue<String> queue = TaskQueue.builder(client, "close-all", Serializers.utf8()).build();
        Subscription consuming = queue.consume(task -> { }, ConsumeOptions.concurrency(2));

        try (LeaderObserver watcher = LeaderObserver.of(zk.client(0), "close-all")) {
            await().atMost(WAIT).until(() -> watcher.currentLeader().isPresent());
            client.close();

            // the leader's node went with the close, not 30 s later with the session
            await().atMost(Duration.ofSeconds(5)).until(() -> watcher.currentLeader().isEmpty());
        }
        await().atMost(WAIT).until(() -> revoked.contains(RevocationReason.CLOSED));
        assertThat(consuming.isActive()).isFalse();
        assertThatThrownBy(() -> store.get("x")).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> files.stat("/x")).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(observer::currentLeader).isInstanceOf(IllegalStateException.class);
        assertThat(elector.isLeader()).isFalse();
        assertThatThrownBy(elector::participants).isInstanceOf(IllegalStateException.class);
        await().atMost(WAIT).until(() -> threadsNamed("zkr-election-close-all") == 0 && threadsNamed("zkr-queue-close-all") == 0);
        // the client's pool threads that ran its recipes' callbacks end with it
        assertThat(callbackThreads).isNotEmpty();
        await().atMost(WAIT).until(() -> callbackThreads.stream().noneMatch(Thread::isAlive));
    }

    @Test
    void closingAWrapperEndsItsRecipesAndLeavesTheCuratorOpen() throws Exception {
        CuratorFramework curator = CuratorFrameworkFactory.newClient(zk.connectString(), new RetryOneTime(100));
        curator.start();
        try {
            ZkRecipes wrapper = ZkRecipes.wrap(curator);
            LeaderElector elector = LeaderElector.builder(wrapper, "close-wrapped").participantId("w").build();
            elector.start();
            assertThat(elector.awaitLeadership(WAIT)).isPresent();
            wrapper.close();
            assertThat(curator.getState()).isEqualTo(CuratorFrameworkState.STARTED);
            assertThat(elector.isLeader()).isFalse();
            assertThatThrownBy(elector::participants).isInstanceOf(IllegalStateException.class);
            assertThat(curator.getChildren().forPath("/zkr/elections/close-wrapped")).isEmpty();
        } finally {
            curator.close();
        }
    }

    /**
     * The leading client's close hands 200 leaderships on at once through its session's end, and
     * no new leader is told while the old one still says it leads: every old term has ended (and
     * said so, CLOSED) before the session's end lets a successor in.
     */
    @Test
    void closingALeadingClientEndsEveryTermBeforeAnySuccessorIsElected() throws Exception {
        int n = 200;
        ZkRecipes leading = Clients.connect(zk.connectString());
        List<LeaderElector> leaders = new ArrayList<>();
        List<LeaderElector> followers = new ArrayList<>();
        List<Leadership> oldTerms = new CopyOnWriteArrayList<>();
        List<RevocationReason> revoked = new CopyOnWriteArrayList<>();
        List<String> overlaps = new CopyOnWriteArrayList<>();
        AtomicInteger told = new AtomicInteger();
        try (ZkRecipes following = Clients.connect(zk.connectString())) {
            for (int i = 0; i < n; i++) {
                LeaderElector e = LeaderElector.builder(leading, "close-many/e" + i).participantId("old")
                        .listener(new LeadershipListener() {
                            @Override
                            public void elected(Leadership term) {
                            }

                            @Override
                            public void revoked(Leadership term, RevocationReason reason) {
                                revoked.add(reason);
                            }
                        }).build();
                e.start();
                leaders.add(e);
            }
            for (LeaderElector e : leaders) {
                oldTerms.add(e.awaitLeadership(WAIT).orElseThrow());
            }
            for (int i = 0; i < n; i++) {
                LeaderElector old = leaders.get(i);
                Leadership oldTerm = oldTerms.get(i);
                LeaderElector e = LeaderElector.builder(following, "close-many/e" + i).participantId("new")
                        .listener(new LeadershipListener() {
                            @Override
                            public void elected(Leadership term) {
                                if (old.isLeader() || oldTerm.isValid()) {
                                    overlaps.add(term.participantId() + " of " + oldTerm);
                                }
                                told.incrementAndGet();
                            }

                            @Override
                            public void revoked(Leadership term, RevocationReason reason) {
                            }
                        }).build();
                e.start();
                followers.add(e);
            }
            await().atMost(WAIT).until(() -> followers.stream().allMatch(f -> {
                try {
                    return f.participants().size() == 2;
                } catch (RuntimeException e) {
                    return false;
                }
            }));

            leading.close();

            await().atMost(WAIT).until(() -> told.get() == n);
            assertThat(overlaps).as("new leaders told while the old one still led").isEmpty();
            assertThat(leaders).noneMatch(LeaderElector::isLeader);
            assertThat(oldTerms).noneMatch(Leadership::isValid);
            await().atMost(WAIT).until(() -> revoked.size() == n);
            assertThat(revoked).containsOnly(RevocationReason.CLOSED);
            for (LeaderElector f : followers) {
                f.close();
            }
        } finally {
            leading.close();
        }
    }
}
