package dev.zkrecipes.it.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.zkrecipes.core.ConnectionLossException;
import dev.zkrecipes.queue.DeadLetter;
import dev.zkrecipes.queue.QueuedTask;
import dev.zkrecipes.queue.Serializers;
import dev.zkrecipes.queue.TaskQueue;
import dev.zkrecipes.testing.EmbeddedZk;
import dev.zkrecipes.testing.LoopbackProxy.LostReply;
import dev.zkrecipes.testing.LoopbackProxy.Opcodes;
import dev.zkrecipes.testing.ProxiedClient;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Operators' calls on a queue when the reply to an applied request is lost and Curator's retry
 * finds the work done: they say "unknown" or count the work as theirs, never "nothing there".
 */
class QueueLifecycleAmbiguityIT {

    @RegisterExtension
    static final EmbeddedZk zk = EmbeddedZk.withClients(1);

    private static final Duration SESSION = Duration.ofSeconds(6);
    private static final Duration FAULT = Duration.ofSeconds(10);

    private ProxiedClient proxied;

    @BeforeEach
    void connect() {
        proxied = zk.proxiedClient(SESSION);
    }

    @AfterEach
    void close() {
        proxied.close();
    }

    private static TaskQueue<String> queue(dev.zkrecipes.core.ZkRecipes client, String name) {
        return TaskQueue.builder(client, name, Serializers.utf8()).maxAttempts(1).build();
    }

    @Test
    void aRequeueWhoseReplyIsLostSaysUnknownAndTheTaskIsBack() throws Exception {
        TaskQueue<String> operator = queue(zk.client(0), "lost-requeue");
        operator.put("poison");
        operator.poll(FAULT).orElseThrow().release();
        DeadLetter letter = operator.deadLetters(10).get(0);
        TaskQueue<String> q = queue(proxied.zk(), "lost-requeue");
        q.size(); // the proxied client is connected and knows the queue

        LostReply lost = proxied.proxy().loseNextReply(Opcodes.MULTI);
        assertThatThrownBy(() -> q.requeueDeadLetter(letter.id())).isInstanceOf(ConnectionLossException.class)
                .hasMessageContaining("outcome unknown");
        lost.await(FAULT);

        assertThat(operator.deadLetters(10)).isEmpty();
        assertThat(operator.peek(10)).extracting(QueuedTask::payload).containsExactly("poison");
    }

    @Test
    void aRequeueOfALetterThatIsNotThereIsEmptyWithoutAFault() {
        TaskQueue<String> q = queue(proxied.zk(), "no-letter");
        q.put("x");
        assertThat(q.requeueDeadLetter("b0000000000/t-0000000042")).isEmpty();
    }

    @Test
    void aPurgeWhoseDeleteReplyIsLostStillCountsThatTask() throws Exception {
        TaskQueue<String> operator = queue(zk.client(0), "lost-purge");
        operator.putAll(List.of("a", "b", "c"));
        TaskQueue<String> q = queue(proxied.zk(), "lost-purge");
        q.size();

        LostReply lost = proxied.proxy().loseNextReply(Opcodes.MULTI);
        assertThat(q.purge()).isEqualTo(3);
        lost.await(FAULT);
        assertThat(operator.size()).isZero();
    }

    @Test
    void aDeleteQueueWhoseLastReplyIsLostSaysUnknownNotAbsent() throws Exception {
        TaskQueue<String> operator = queue(zk.client(0), "lost-delete");
        operator.put("a");
        int nodes = countNodes("/zkr/queues/lost-delete");
        proxied.zk().curator().checkExists().forPath("/zkr");

        // Curator tries the queue node first (refused: not empty), deletes every node below it, then
        // the queue node: lose that last reply, so the retry finds nothing -- which must not read as
        // "there was no queue"
        LostReply lost = proxied.proxy().loseReplyAfter(nodes, Opcodes.DELETE);
        assertThatThrownBy(() -> TaskQueue.deleteQueue(proxied.zk(), "lost-delete"))
                .isInstanceOf(ConnectionLossException.class).hasMessageContaining("outcome unknown");
        lost.await(FAULT);
        assertThat(zk.client(0).curator().checkExists().forPath("/zkr/queues/lost-delete")).isNull();
        assertThat(TaskQueue.deleteQueue(proxied.zk(), "lost-delete")).isFalse();
    }

    private static int countNodes(String path) throws Exception {
        int n = 1;
        for (String child : zk.client(0).curator().getChildren().forPath(path)) {
            n += countNodes(path + "/" + child);
        }
        return n;
    }
}
