package dev.zkrecipes.it.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zkrecipes.core.LeadershipLostException;
import dev.zkrecipes.core.ZkRecipeException;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.queue.Serializers;
import dev.zkrecipes.queue.Task;
import dev.zkrecipes.queue.TaskQueue;
import dev.zkrecipes.testing.Clients;
import dev.zkrecipes.testing.ProxiedClient;
import dev.zkrecipes.testing.EmbeddedZk;
import dev.zkrecipes.testing.ZkServers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * No loss, no acknowledged redelivery: producers and consumers on separate clients, 10,000 tasks,
 * consumer sessions expired at random on the server while they hold claims.
 */
class TaskQueueFaultIT {

    @RegisterExtension
    static final EmbeddedZk zk = EmbeddedZk.server();

    private static final int TASKS = Integer.getInteger("zkr.queue.tasks", 10_000);

    @Test
    void everyTaskIsProcessedAndNoAcknowledgedTaskComesBackUnderRandomSessionExpiry() throws Exception {
        long seed = Long.getLong("zkr.seed", System.nanoTime());
        System.out.println("TaskQueueFaultIT seed=" + seed + " (rerun with -Dzkr.seed=" + seed + ")");
        Random random = new Random(seed);
        Map<String, AtomicInteger> processed = new ConcurrentHashMap<>();
        Map<String, AtomicInteger> acked = new ConcurrentHashMap<>();
        AtomicInteger lostClaims = new AtomicInteger();
        AtomicInteger redeliveredAfterAck = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        List<ZkRecipes> producers = new ArrayList<>();
        List<ProxiedClient> consumers = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        try {
            for (int p = 0; p < 3; p++) {
                ZkRecipes producerZk = Clients.connect(zk.connectString());
                producers.add(producerZk);
                TaskQueue<String> q = TaskQueue.builder(producerZk, "no-loss", Serializers.utf8()).build();
                int producer = p;
                threads.add(new Thread(() -> {
                    for (int i = 0; i < TASKS / 3 + (producer == 0 ? TASKS % 3 : 0); i += 50) {
                        List<String> batch = new ArrayList<>();
                        for (int j = i; j < Math.min(i + 50, TASKS / 3 + (producer == 0 ? TASKS % 3 : 0)); j++) {
                            batch.add(producer + ":" + j);
                        }
                        while (true) {
                            try {
                                q.putAll(batch);
                                break;
                            } catch (ZkRecipeException e) {
                                // retry the batch; a lost reply could mean a duplicate put, which the
                                // assertions tolerate as long as nothing is lost
                            }
                        }
                    }
                }, "producer-" + p));
            }
            for (int c = 0; c < 4; c++) {
                ProxiedClient client = ProxiedClient.connect(zk.connectString(), zk.port(), Duration.ofSeconds(2));
                consumers.add(client);
                TaskQueue<String> q = TaskQueue.builder(client.zk(), "no-loss", Serializers.utf8()).build();
                for (int t = 0; t < 2; t++) {
                    threads.add(new Thread(() -> {
                        while (!stop.get()) {
                            try {
                                Optional<Task<String>> task = q.poll(Duration.ofMillis(200));
                                if (task.isEmpty()) {
                                    continue;
                                }
                                if (acked.containsKey(task.get().payload())) {
                                    // delivered again after an ack that succeeded: the one thing that must never happen
                                    redeliveredAfterAck.incrementAndGet();
                                }
                                processed.computeIfAbsent(task.get().payload(), k -> new AtomicInteger()).incrementAndGet();
                                task.get().ack();
                                acked.computeIfAbsent(task.get().payload(), k -> new AtomicInteger()).incrementAndGet();
                            } catch (LeadershipLostException lost) {
                                lostClaims.incrementAndGet();
                            } catch (ZkRecipeException e) {
                                // the session is being replaced: poll again
                            } catch (InterruptedException e) {
                                return;
                            }
                        }
                    }, "consumer-" + c + "-" + t));
                }
            }
            threads.forEach(Thread::start);
            int expiries = 0;
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (processed.size() < TASKS && System.nanoTime() < deadline) {
                await().pollDelay(Duration.ofMillis(400 + random.nextInt(600))).atMost(Duration.ofSeconds(5)).until(() -> true);
                if (expiries < 8) {
                    ProxiedClient victim = consumers.get(random.nextInt(consumers.size()));
                    if (victim.zk().curator().getZookeeperClient().isConnected()) {
                        victim.expireSession();
                        expiries++;
                    }
                }
            }
            TaskQueue<String> check = TaskQueue.builder(producers.get(0), "no-loss", Serializers.utf8()).build();
            // an ack whose reply was lost with its session may have been applied: the queue tells
            await().atMost(Duration.ofSeconds(60)).until(() -> processed.size() >= TASKS && check.size() == 0);
            stop.set(true);
            for (Thread t : threads) {
                t.join(10_000);
            }
            System.out.println("TaskQueueFaultIT: " + expiries + " session expiries, " + lostClaims.get()
                    + " acks refused on lost claims, " + processed.values().stream().filter(n -> n.get() > 1).count()
                    + " tasks processed more than once");
            assertThat(expiries).isPositive();
            assertThat(processed).hasSize(TASKS);
            assertThat(acked.values()).allMatch(n -> n.get() == 1);
            assertThat(redeliveredAfterAck.get()).isZero();
            assertThat(check.deadLetters(10)).isEmpty();
        } finally {
            stop.set(true);
            consumers.forEach(ProxiedClient::close);
            producers.forEach(ZkServers::closeQuietly);
        }
    }
}
