package dev.zkrecipes.it.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zkrecipes.queue.ClaimInfo;
import dev.zkrecipes.queue.ConsumeOptions;
import dev.zkrecipes.queue.Serializers;
import dev.zkrecipes.queue.Subscription;
import dev.zkrecipes.queue.Task;
import dev.zkrecipes.queue.TaskQueue;
import dev.zkrecipes.testing.EmbeddedZk;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Operators see who handles which task since when; a hung handler gives its task back after claimTimeout. */
class QueueClaimsIT {

    @RegisterExtension
    static final EmbeddedZk zk = EmbeddedZk.withClients(2);

    @Test
    void claimsShowTheConsumerAndWhenItTookTheTask() throws Exception {
        TaskQueue<String> q = TaskQueue.builder(zk.client(0), "claims-visible", Serializers.utf8())
                .consumerId("worker-7").build();
        String id = q.put("x");
        Instant before = Instant.now().minusSeconds(1);
        Task<String> t = q.poll(Duration.ofSeconds(5)).orElseThrow();

        List<ClaimInfo> claims = TaskQueue.builder(zk.client(1), "claims-visible", Serializers.utf8()).build().claims();
        assertThat(claims).singleElement().satisfies(c -> {
            assertThat(c.taskId()).isEqualTo(id);
            assertThat(c.consumer()).contains("worker-7");
            assertThat(c.since()).hasValueSatisfying(s -> assertThat(s).isAfter(before));
        });
        t.ack();
        assertThat(q.claims()).isEmpty();
    }

    @Test
    void aHandlerPastClaimTimeoutHasItsTaskGivenBackAndAnotherConsumerHandlesIt() throws Exception {
        TaskQueue<String> slow = TaskQueue.builder(zk.client(0), "claims-timeout", Serializers.utf8())
                .claimTimeout(Duration.ofMillis(500)).build();
        slow.put("stuck");
        CountDownLatch hang = new CountDownLatch(1);
        List<Integer> attempts = new CopyOnWriteArrayList<>();
        try (Subscription hung = slow.consume(task -> {
            attempts.add(task.attempt());
            hang.await(10, TimeUnit.SECONDS);
        }, ConsumeOptions.concurrency(1))) {
            await().atMost(Duration.ofSeconds(5)).until(() -> attempts.size() == 1);
            TaskQueue<String> other = TaskQueue.builder(zk.client(1), "claims-timeout", Serializers.utf8()).build();
            Task<String> again = other.poll(Duration.ofSeconds(5)).orElseThrow();
            assertThat(again.payload()).isEqualTo("stuck");
            assertThat(again.attempt()).isEqualTo(2);
            again.ack();
            hang.countDown();
        }
        assertThat(slow.size()).isZero();
    }
}
