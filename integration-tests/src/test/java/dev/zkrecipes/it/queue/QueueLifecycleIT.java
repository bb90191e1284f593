package dev.zkrecipes.it.queue;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zkrecipes.queue.DeadLetter;
import dev.zkrecipes.queue.QueuedTask;
import dev.zkrecipes.queue.Serializers;
import dev.zkrecipes.queue.Task;
import dev.zkrecipes.queue.TaskQueue;
import dev.zkrecipes.testing.EmbeddedZk;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Operators' handles on a queue: peek without claiming, purge, requeue dead letters, delete. */
class QueueLifecycleIT {

    @RegisterExtension
    static final EmbeddedZk zk = EmbeddedZk.withClients(1);

    private static TaskQueue<String> queue(String name) {
        return TaskQueue.builder(zk.client(0), name, Serializers.utf8()).maxAttempts(1).build();
    }

    @Test
    void peekShowsTasksInOrderWithoutClaimingAndPurgeLeavesClaimedTasksAlone() throws Exception {
        TaskQueue<String> q = queue("lifecycle-purge");
        q.putAll(List.of("a", "b", "c", "d", "e"));

        assertThat(q.peek(3)).extracting(QueuedTask::payload).containsExactly("a", "b", "c");
        assertThat(q.peek(10)).noneMatch(QueuedTask::claimed);
        assertThat(q.size()).isEqualTo(5);

        Task<String> held = q.poll(Duration.ofSeconds(5)).orElseThrow();
        assertThat(q.peek(10)).filteredOn(QueuedTask::claimed).extracting(QueuedTask::id).containsExactly(held.id());

        assertThat(q.purge()).isEqualTo(4);
        assertThat(q.size()).isEqualTo(1);
        held.ack();
        assertThat(q.size()).isZero();
    }

    @Test
    void aDeadLetterRequeuedIsDeliveredAgainAsANewTask() throws Exception {
        TaskQueue<String> q = queue("lifecycle-requeue");
        q.put("poison");
        q.poll(Duration.ofSeconds(5)).orElseThrow().release();
        List<DeadLetter> dead = q.deadLetters(10);
        assertThat(dead).singleElement().extracting(DeadLetter::id).isNotNull();

        String id = q.requeueDeadLetter(dead.get(0).id()).orElseThrow();

        assertThat(q.deadLetters(10)).isEmpty();
        Task<String> again = q.poll(Duration.ofSeconds(5)).orElseThrow();
        assertThat(again.id()).isEqualTo(id);
        assertThat(again.payload()).isEqualTo("poison");
        assertThat(again.attempt()).isEqualTo(1);
        again.ack();
        assertThat(q.requeueDeadLetter(dead.get(0).id())).isEmpty();
    }

    @Test
    void deleteQueueRemovesEverythingOnce() throws Exception {
        TaskQueue<String> q = queue("lifecycle-delete");
        q.putAll(List.of("x", "y"));

        assertThat(TaskQueue.deleteQueue(zk.client(0), "lifecycle-delete")).isTrue();

        assertThat(zk.client(0).curator().checkExists().forPath("/zkr/queues/lifecycle-delete")).isNull();
        assertThat(TaskQueue.deleteQueue(zk.client(0), "lifecycle-delete")).isFalse();
        assertThat(queue("lifecycle-delete").size()).isZero();
    }
}
