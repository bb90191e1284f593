package dev.zkrecipes.it.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.zkrecipes.queue.QueueFullException;
import dev.zkrecipes.queue.Serializers;
import dev.zkrecipes.queue.Task;
import dev.zkrecipes.queue.TaskQueue;
import dev.zkrecipes.testing.EmbeddedZk;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A queue with a capacity: puts past it wait for room, then fail typed, sending nothing. */
class QueueCapacityIT {

    @RegisterExtension
    static final EmbeddedZk zk = EmbeddedZk.withClients(2);

    private static TaskQueue<String> queue(int client, String name, int capacity, Duration wait) {
        return TaskQueue.builder(zk.client(client), name, Serializers.utf8()).capacity(capacity, wait).build();
    }

    @Test
    void aFullQueueRefusesAPutAtOnceAndKeepsItsSize() {
        TaskQueue<String> q = queue(0, "capacity-full", 10, Duration.ZERO);
        for (int i = 0; i < 10; i++) {
            q.put("t" + i);
        }
        assertThatThrownBy(() -> q.put("one too many")).isInstanceOf(QueueFullException.class)
                .hasMessageContaining("'capacity-full' is full").hasMessageContaining("capacity 10");
        assertThatThrownBy(() -> q.putAll(List.of("a", "b"))).isInstanceOf(QueueFullException.class);
        assertThatThrownBy(() -> q.putAsync("c")).isInstanceOf(QueueFullException.class);
        assertThat(q.size()).isEqualTo(10);
    }

    @Test
    void manyPutsFromTwoProducersNeverPassTheBound() throws Exception {
        TaskQueue<String> a = queue(0, "capacity-two", 300, Duration.ZERO);
        TaskQueue<String> b = queue(1, "capacity-two", 300, Duration.ZERO);
        CompletableFuture<Integer> fromA = CompletableFuture.supplyAsync(() -> putUntilFull(a));
        CompletableFuture<Integer> fromB = CompletableFuture.supplyAsync(() -> putUntilFull(b));
        int put = fromA.get(60, TimeUnit.SECONDS) + fromB.get(60, TimeUnit.SECONDS);
        // full only when a count saw no room; over by at most one put per other producer racing it
        assertThat(put).isEqualTo(a.size()).isBetween(300, 301);
    }

    private static int putUntilFull(TaskQueue<String> q) {
        int put = 0;
        try {
            while (put < 1000) {
                q.put("t" + put);
                put++;
            }
        } catch (QueueFullException full) {
            // expected
        }
        return put;
    }

    @Test
    void aPutWaitsForAConsumerToMakeRoom() throws Exception {
        TaskQueue<String> q = queue(0, "capacity-wait", 3, Duration.ofSeconds(20));
        q.putAll(List.of("a", "b", "c"));
        CompletableFuture<String> blocked = CompletableFuture.supplyAsync(() -> q.put("d"));
        assertThat(blocked).isNotCompleted();
        TaskQueue<String> consumer = TaskQueue.builder(zk.client(1), "capacity-wait", Serializers.utf8()).build();
        Task<String> first = consumer.poll(Duration.ofSeconds(5)).orElseThrow();
        assertThat(blocked).isNotCompleted();  // a claimed task still counts
        long acked = System.nanoTime();
        first.ack();
        assertThat(blocked.get(10, TimeUnit.SECONDS)).isNotNull();
        assertThat(Duration.ofNanos(System.nanoTime() - acked)).isLessThan(Duration.ofSeconds(5));
        assertThat(q.size()).isEqualTo(3);
    }

    @Test
    void aBatchThatCanNeverFitAndBadOptionsAreRefusedBeforeAnythingIsSent() throws Exception {
        TaskQueue<String> q = queue(0, "capacity-batch", 2, Duration.ZERO);
        List<String> three = new ArrayList<>(List.of("a", "b", "c"));
        assertThatThrownBy(() -> q.putAll(three)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("split");
        assertThat(zk.client(0).curator().checkExists().forPath("/zkr/queues/capacity-batch")).isNull();
        assertThatThrownBy(() -> TaskQueue.builder(zk.client(0), "x", Serializers.utf8()).capacity(0, Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TaskQueue.builder(zk.client(0), "x", Serializers.utf8()).capacity(5, Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
