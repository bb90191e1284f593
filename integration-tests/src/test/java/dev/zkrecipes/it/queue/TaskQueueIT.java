package dev.zkrecipes.it.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.zkrecipes.core.PayloadTooLargeException;
import dev.zkrecipes.core.SerializationException;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.queue.ConsumeOptions;
import dev.zkrecipes.queue.DeadLetter;
import dev.zkrecipes.queue.Serializer;
import dev.zkrecipes.queue.Serializers;
import dev.zkrecipes.queue.Subscription;
import dev.zkrecipes.queue.Task;
import dev.zkrecipes.queue.TaskQueue;
import dev.zkrecipes.testing.Clients;
import dev.zkrecipes.testing.ZkServers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.server.ServerMetrics;
import org.apache.zookeeper.server.metric.AvgMinMaxCounter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

class TaskQueueIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static TestingServer server;
    private static ZkRecipes zk;
    private static ZkRecipes other;
    private String name;

    @BeforeAll
    static void start() {
        server = ZkServers.startServer();
        zk = Clients.connect(server.getConnectString());
        other = Clients.connect(server.getConnectString());
    }

    @AfterAll
    static void stop() {
        ZkServers.closeQuietly(zk);
        ZkServers.closeQuietly(other);
        ZkServers.closeQuietly(server);
    }

    @BeforeEach
    void name(TestInfo info) {
        name = "it/" + info.getTestMethod().orElseThrow().getName();
    }

    /** Idle consumers in line; 0 before the first one lines up (nothing is created before). */
    private int waiters() throws Exception {
        String path = "/zkr/queues/" + name + "/waiters";
        return other.curator().checkExists().forPath(path) == null ? 0 : other.curator().getChildren().forPath(path).size();
    }

    private TaskQueue<String> queue(ZkRecipes client) {
        return TaskQueue.builder(client, name, Serializers.utf8()).build();
    }

    @Test
    void tasksComeOutInOrderAndAReleasedTaskKeepsItsPlaceWithOneMoreAttempt() throws Exception {
        TaskQueue<String> q = queue(zk);
        q.put("a");
        q.putAll(List.of("b", "c"));
        assertThat(q.size()).isEqualTo(3);

        Task<String> first = q.poll(WAIT).orElseThrow();
        assertThat(first.payload()).isEqualTo("a");
        assertThat(first.attempt()).isEqualTo(1);
        first.release();
        Task<String> again = q.poll(WAIT).orElseThrow();
        assertThat(again.payload()).isEqualTo("a");
        assertThat(again.id()).isEqualTo(first.id());
        assertThat(again.attempt()).isEqualTo(2);
        again.ack();
        again.ack();

        assertThat(q.poll(WAIT).orElseThrow().payload()).isEqualTo("b");
        assertThat(q.size()).isEqualTo(2);
    }

    @Test
    void pollTimesOutEmptyOnAnEmptyQueue() throws Exception {
        TaskQueue<String> q = queue(zk);
        long start = System.nanoTime();
        assertThat(q.poll(Duration.ofMillis(300))).isEmpty();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(250));
        assertThat(q.poll(Duration.ZERO)).isEmpty();
    }

    @Test
    void aTaskFailedMaxAttemptsTimesGoesToTheDeadLetters() throws Exception {
        TaskQueue<String> q = TaskQueue.builder(zk, name, Serializers.utf8()).maxAttempts(2).build();
        q.put("poison");
        q.poll(WAIT).orElseThrow().release();
        Task<String> last = q.poll(WAIT).orElseThrow();
        assertThat(last.attempt()).isEqualTo(2);
        last.release();

        assertThat(q.poll(Duration.ofMillis(300))).isEmpty();
        List<DeadLetter> dead = q.deadLetters(10);
        assertThat(dead).singleElement().satisfies(d -> {
            assertThat(new String(d.payload(), StandardCharsets.UTF_8)).isEqualTo("poison");
            assertThat(d.attempts()).isEqualTo(2);
            assertThat(d.id()).isEqualTo(last.id());
        });
        assertThat(q.size()).isZero();
        assertThat(q.deleteDeadLetter(dead.get(0).id())).isTrue();
        assertThat(q.deadLetters(10)).isEmpty();
    }

    @Test
    void consumeAcksOnReturnAndRedeliversAfterAnException() throws Exception {
        TaskQueue<String> q = queue(zk);
        Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
        Set<String> done = ConcurrentHashMap.newKeySet();
        for (int i = 0; i < 20; i++) {
            q.put("t" + i);
        }
        try (Subscription s = queue(other).consume(task -> {
            if (attempts.computeIfAbsent(task.payload(), k -> new AtomicInteger()).incrementAndGet() == 1
                    && task.payload().endsWith("3")) {
                throw new IllegalStateException("first try of " + task.payload() + " fails");
            }
            done.add(task.payload());
        }, ConsumeOptions.concurrency(3))) {
            await().atMost(WAIT).until(() -> done.size() == 20);
            assertThat(s.isActive()).isTrue();
        }
        assertThat(attempts.get("t3").get()).isEqualTo(2);
        assertThat(attempts.get("t4").get()).isEqualTo(1);
        await().atMost(WAIT).until(() -> q.size() == 0);
    }

    @Test
    void putAllIsOneBatchAndAnOversizedBatchIsRefusedWhole() throws Exception {
        TaskQueue<String> q = queue(zk);
        List<String> big = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            big.add("x".repeat(100_000));
        }
        assertThatThrownBy(() -> q.putAll(big)).isInstanceOf(PayloadTooLargeException.class).hasMessageContaining("split");
        assertThat(q.size()).isZero();
        assertThat(q.putAll(List.of("1", "2", "3"))).hasSize(3);
        assertThat(q.size()).isEqualTo(3);
    }

    @Test
    void badInputFailsTypedAndWritesNothing() throws Exception {
        TaskQueue<String> q = queue(zk);
        Serializer<String> broken = new Serializer<>() {
            @Override
            public byte[] serialize(String payload) {
                throw new IllegalArgumentException("cannot encode " + payload);
            }

            @Override
            public String deserialize(byte[] bytes) {
                return "";
            }
        };
        assertThatThrownBy(() -> q.put(null)).isInstanceOf(NullPointerException.class).hasMessageContaining("payload");
        assertThatThrownBy(() -> q.putAll(List.of("ok", "x".repeat(zk.maxPayloadBytes())))).isInstanceOf(PayloadTooLargeException.class);
        assertThatThrownBy(() -> TaskQueue.builder(zk, name, broken).build().put("y")).isInstanceOf(SerializationException.class)
                .hasMessageContaining("cannot encode y");
        assertThatThrownBy(() -> TaskQueue.builder(zk, "a//b", Serializers.utf8())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> q.poll(Duration.ofMillis(-1))).isInstanceOf(IllegalArgumentException.class);
        assertThat(q.size()).isZero();
    }

    record Job(String kind, int size) {
    }

    @Test
    void jsonSerializerRoundTripsARecord() throws Exception {
        TaskQueue<Job> q = TaskQueue.builder(zk, name, Serializers.json(Job.class)).build();
        q.put(new Job("resize", 42));
        assertThat(q.poll(WAIT).orElseThrow().payload()).isEqualTo(new Job("resize", 42));
    }

    @Test
    void aLargeBacklogNeverPutsMoreThanABucketUnderOneParent() throws Exception {
        int bucket = 100;
        TaskQueue<String> q = TaskQueue.builder(zk, name, Serializers.utf8()).bucketSize(bucket).build();
        int total = 3000;
        for (int i = 0; i < total; i += 25) {
            List<String> batch = new ArrayList<>();
            for (int j = 0; j < 25; j++) {
                batch.add("t" + (i + j));
            }
            q.putAll(batch);
        }
        assertThat(q.size()).isEqualTo(total);
        assertThat(q.largestBucket()).isLessThanOrEqualTo(bucket + 25);
        assertThat(zk.curator().getChildren().forPath("/zkr/queues/" + name + "/tasks").size()).isGreaterThanOrEqualTo(total / (bucket + 25));

        Set<String> seen = ConcurrentHashMap.newKeySet();
        try (Subscription s = queue(other).consume(task -> seen.add(task.payload()), ConsumeOptions.concurrency(4))) {
            await().atMost(Duration.ofSeconds(60)).until(() -> seen.size() == total);
        }
        await().atMost(WAIT).until(() -> q.size() == 0);
        // drained buckets are removed as consumers pass them
        assertThat(zk.curator().getChildren().forPath("/zkr/queues/" + name + "/tasks").size()).isLessThanOrEqualTo(3);
    }

    @Test
    void pipelinedPutsStillMoveOnFromAFullBucket() throws Exception {
        TaskQueue<String> q = TaskQueue.builder(zk, name, Serializers.utf8()).bucketSize(100).build();
        List<java.util.concurrent.CompletableFuture<String>> puts = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            puts.add(q.putAsync("t" + i));
        }
        java.util.concurrent.CompletableFuture.allOf(puts.toArray(java.util.concurrent.CompletableFuture[]::new))
                .get(60, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(q.size()).isEqualTo(2000);
        assertThat(q.largestBucket()).isLessThanOrEqualTo(200);
    }

    @Test
    void aProcessThatOnlyConsumesFollowsTheTailAndRemovesDrainedBuckets() throws Exception {
        TaskQueue<String> producer = TaskQueue.builder(zk, name, Serializers.utf8()).bucketSize(100).build();
        TaskQueue<String> consumer = TaskQueue.builder(other, name, Serializers.utf8()).bucketSize(100).build();
        List<String> tasks = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            tasks.add("t" + i);
        }
        producer.putAll(tasks);
        for (int i = 0; i < 500; i++) {
            consumer.poll(WAIT).orElseThrow().ack();
        }
        assertThat(consumer.poll(Duration.ofMillis(200))).isEmpty();
        assertThat(zk.curator().getChildren().forPath("/zkr/queues/" + name + "/tasks").size()).isLessThanOrEqualTo(2);

        java.util.concurrent.CompletableFuture<Optional<Task<String>>> waiting = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return consumer.poll(Duration.ofSeconds(20));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        await().pollDelay(Duration.ofMillis(300)).atMost(WAIT).until(() -> true);
        long put = System.nanoTime();
        producer.put("late");
        assertThat(waiting.get(20, java.util.concurrent.TimeUnit.SECONDS)).hasValueSatisfying(t -> t.ack());
        // woken by the put, not by the end of its 20 s poll
        assertThat(Duration.ofNanos(System.nanoTime() - put)).isLessThan(Duration.ofSeconds(5));
    }

    private static long watchNotifications() {
        ServerMetrics m = ServerMetrics.getMetrics();
        return ((AvgMinMaxCounter) m.NODE_CHILDREN_WATCHER).getTotal() + ((AvgMinMaxCounter) m.NODE_DELETED_WATCHER).getTotal()
                + ((AvgMinMaxCounter) m.NODE_CHANGED_WATCHER).getTotal() + ((AvgMinMaxCounter) m.NODE_CREATED_WATCHER).getTotal();
    }

    @Test
    void aPutIntoAnIdleQueueWakesOneOfTwentyConsumersNotAll() throws Exception {
        TaskQueue<String> producer = queue(zk);
        Set<String> done = ConcurrentHashMap.newKeySet();
        List<Subscription> consumers = new ArrayList<>();
        try {
            for (int i = 0; i < 20; i++) {
                consumers.add(queue(other).consume(task -> done.add(task.payload()),
                        new ConsumeOptions(1, Duration.ofSeconds(30))));
            }
            // let all twenty find the queue empty and line up
            await().atMost(WAIT).until(() -> waiters() == 20);
            int puts = 5;
            long before = watchNotifications();
            for (int i = 0; i < puts; i++) {
                producer.put("p" + i);
                int n = i + 1;
                await().atMost(WAIT).until(() -> done.size() == n);
                await().atMost(WAIT).until(() -> waiters() == 20);
            }
            long perPut = (watchNotifications() - before) / puts;
            // a herd would fire at least one watch per idle consumer (20) on every put
            assertThat(perPut).isLessThan(10);
        } finally {
            consumers.forEach(Subscription::close);
        }
    }
}
