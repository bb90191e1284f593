package dev.zkrecipes.it.scale;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zkrecipes.config.ConfigStore;
import dev.zkrecipes.config.FileMetadata;
import dev.zkrecipes.config.FileMetadataStore;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.election.LeaderElector;
import dev.zkrecipes.election.LeaderObserver;
import dev.zkrecipes.lock.DistributedLock;
import dev.zkrecipes.lock.DistributedSemaphore;
import dev.zkrecipes.lock.LockHandle;
import dev.zkrecipes.lock.LockListener;
import dev.zkrecipes.lock.Permit;
import dev.zkrecipes.queue.ConsumeOptions;
import dev.zkrecipes.queue.Serializers;
import dev.zkrecipes.queue.Subscription;
import dev.zkrecipes.queue.TaskQueue;
import dev.zkrecipes.testing.EmbeddedZk;
import dev.zkrecipes.testing.LoopbackProxy;
import dev.zkrecipes.testing.ProxiedClient;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Idle recipes cost the ensemble nothing but the client's pings: every recipe waits on watches,
 * never by polling. On one client, through a proxy that counts its requests: a leader, the next in
 * line (its own node and the leader watched), a third participant (the one ahead and the leader
 * watched), an observer; a held lock with a listener (its own node watched) and a waiter (the
 * holder's node watched); a semaphore permit; a config store and a file store with listeners
 * (their nodes and children watched); a queue consumer with nothing to do (the tail, the claims and
 * the newest buckets watched; its threads re-read only after their poll timeout, 60 s here).
 */
class IdleRecipesIT {

    @RegisterExtension
    static final EmbeddedZk zk = EmbeddedZk.server();

    private static final Duration WAIT = Duration.ofSeconds(10);

    @Test
    void idleRecipesSendNothingButPings() throws Exception {
        try (ProxiedClient idle = zk.proxiedClient(Duration.ofSeconds(6))) {
            ZkRecipes c = idle.zk();
            LeaderElector first = LeaderElector.builder(c, "idle/election").participantId("a").build();
            first.start();
            first.awaitLeadership(WAIT).orElseThrow();
            LeaderElector second = LeaderElector.builder(c, "idle/election").participantId("b").build();
            second.start();
            LeaderElector third = LeaderElector.builder(c, "idle/election").participantId("c").build();
            third.start();
            await().atMost(WAIT).until(() -> first.participants().size() == 3);
            LeaderObserver observer = LeaderObserver.of(c, "idle/election").addListener(leader -> { });

            DistributedLock lock = DistributedLock.of(c, "idle/lock").addListener(new LockListener() { });
            LockHandle held = lock.acquire();
            CompletableFuture<Boolean> waiter = CompletableFuture.supplyAsync(() -> {
                try {
                    Optional<LockHandle> got = DistributedLock.of(c, "idle/lock").tryAcquire(Duration.ofSeconds(30));
                    got.ifPresent(LockHandle::close);  // a handle is released by the thread that took it
                    return got.isPresent();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            });
            await().atMost(WAIT).until(() -> lock.holders().size() == 2);
            Permit permit = DistributedSemaphore.of(c, "idle/semaphore", 2).acquire();

            ConfigStore config = ConfigStore.open(c, "idle/config");
            config.put("k", "v");
            AutoCloseable configListener = config.addListener(change -> { });
            FileMetadataStore files = FileMetadataStore.open(c, "idle/fs");
            files.create("/a/b", FileMetadata.builder().size(1).build());

            TaskQueue<String> queue = TaskQueue.builder(c, "idle/queue", Serializers.utf8()).build();
            queue.put("one");
            Subscription consumer = queue.consume(task -> { }, new ConsumeOptions(1, Duration.ofSeconds(60)));
            await().atMost(WAIT).until(() -> queue.size() == 0);

            try {
                LoopbackProxy proxy = idle.proxy();
                // once everything has settled (what was started has set its watches) ...
                AtomicReference<Map<Integer, Long>> last = new AtomicReference<>(Map.of());
                await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofSeconds(1)).until(() -> {
                    Map<Integer, Long> now = withoutPings(proxy.requestsSeen());
                    return now.equals(last.getAndSet(now));
                });
                Map<Integer, Long> settled = withoutPings(proxy.requestsSeen());
                // ... no request but pings for several seconds, while every recipe is alive
                await("idle recipes sending requests").during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(6))
                        .until(() -> withoutPings(proxy.requestsSeen()).equals(settled));
                assertThat(proxy.requestsSeen().getOrDefault(LoopbackProxy.Opcodes.PING, 0L)).as("pings").isPositive();
                assertThat(first.isLeader()).isTrue();
                assertThat(held.isValid()).isTrue();
                assertThat(waiter).isNotDone();
                assertThat(consumer.isActive()).isTrue();
                assertThat(observer.currentLeader()).isPresent();
            } finally {
                consumer.close();
                configListener.close();
                config.close();
                files.close();
                permit.close();
                held.close();
                assertThat(waiter.get(WAIT.toSeconds(), TimeUnit.SECONDS)).as("the waiter got the lock once free").isTrue();
                observer.close();
                third.close();
                second.close();
                first.close();
            }
        }
    }

    private static Map<Integer, Long> withoutPings(Map<Integer, Long> seen) {
        Map<Integer, Long> rest = new TreeMap<>(seen);
        rest.remove(LoopbackProxy.Opcodes.PING);
        return rest;
    }
}
