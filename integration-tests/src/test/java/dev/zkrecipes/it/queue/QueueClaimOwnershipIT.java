package dev.zkrecipes.it.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.zkrecipes.core.LeadershipLostException;
import dev.zkrecipes.core.ZkRecipeException;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.queue.ClaimInfo;
import dev.zkrecipes.queue.ConsumeOptions;
import dev.zkrecipes.queue.Subscription;
import dev.zkrecipes.queue.Serializers;
import dev.zkrecipes.queue.Task;
import dev.zkrecipes.queue.TaskQueue;
import dev.zkrecipes.testing.Clients;
import dev.zkrecipes.testing.EmbeddedZk;
import dev.zkrecipes.testing.LoopbackProxy;
import dev.zkrecipes.testing.LoopbackProxy.LostReply;
import dev.zkrecipes.testing.LoopbackProxy.Opcodes;
import dev.zkrecipes.testing.SessionKiller;
import dev.zkrecipes.testing.ZkServers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.retry.RetryNTimes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A claim is its consumer's alone, and an ack says "acknowledged" only when the task is gone:
 * <ul>
 *   <li>an ack after an operator removed the claim node is refused with
 *       {@link LeadershipLostException}, and the task, still there, is delivered again;
 *   <li>a release whose outcome was unknown (applied, every reply lost) is settled later without
 *       touching the claim another consumer made on the task meanwhile, whose ack then empties the
 *       queue;
 *   <li>an ack() called again after one that failed asks ZooKeeper again: after the session that
 *       held the claim expired meanwhile it is refused, never reported as done;
 *   <li>a handler that acknowledges its task and then throws keeps its worker alive;
 *   <li>a claim from a queue since deleted never acknowledges a task of the queue made again
 *       under the same name (a new queue's ids start where no earlier one's did).
 * </ul>
 * Both once made an ack return normally while its task stayed in the queue, to be delivered again.
 */
class QueueClaimOwnershipIT {

    @RegisterExtension
    static final EmbeddedZk zk = EmbeddedZk.server();

    private static final Duration SESSION = Duration.ofSeconds(6);
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final AtomicInteger NAMES = new AtomicInteger();

    private final List<AutoCloseable> closeAfter = new ArrayList<>();

    @AfterEach
    void cleanUp() {
        for (int i = closeAfter.size() - 1; i >= 0; i--) {
            ZkServers.closeQuietly(closeAfter.get(i));
        }
        closeAfter.clear();
    }

    private <C extends AutoCloseable> C closing(C closeable) {
        closeAfter.add(closeable);
        return closeable;
    }

    private static String newName(String what) {
        return "ownership/" + what + "-" + NAMES.incrementAndGet();
    }

    private static TaskQueue<String> queue(ZkRecipes client, String name, String consumerId) {
        return TaskQueue.builder(client, name, Serializers.utf8()).consumerId(consumerId).build();
    }

    private static List<String> holders(TaskQueue<String> q) {
        return q.claims().stream().map(ClaimInfo::consumer).flatMap(Optional::stream).toList();
    }

    @Test
    void aClaimFromADeletedQueueNeverAcknowledgesATaskOfTheQueueMadeAgainUnderItsName() throws Exception {
        String name = newName("reborn");
        ZkRecipes first = closing(Clients.connect(zk.connectString(), SESSION));
        ZkRecipes second = closing(Clients.connect(zk.connectString(), SESSION));
        TaskQueue<String> old = queue(first, name, "old");
        old.put("from the old queue");
        Task<String> stale = old.poll(WAIT).orElseThrow();

        assertThat(TaskQueue.deleteQueue(first, name)).isTrue();
        TaskQueue<String> reborn = queue(second, name, "new");
        reborn.put("from the new queue");
        Task<String> current = reborn.poll(WAIT).orElseThrow();

        // same place in the same kind of queue, same delivery count: only the id can tell them apart
        assertThat(current.attempt()).isEqualTo(stale.attempt());
        assertThat(current.id()).isNotEqualTo(stale.id());
        // the old task went with its queue: the late ack may call it gone either way, but it must
        // not touch the new queue's task or its claim
        Throwable lateAck = catchThrowable(stale::ack);
        assertThat(lateAck).satisfiesAnyOf(t -> assertThat(t).isNull(),
                t -> assertThat(t).isInstanceOf(LeadershipLostException.class));
        assertThat(reborn.size()).as("the new queue's task, still claimed by its consumer").isEqualTo(1);
        assertThat(holders(reborn)).containsExactly("new");
        current.ack();
        assertThat(reborn.size()).isZero();
    }

    @Test
    void ackAfterAnOperatorRemovedTheClaimIsRefusedAndTheTaskIsDeliveredAgain() throws Exception {
        String name = newName("operator");
        ZkRecipes operator = closing(Clients.connect(zk.connectString(), SESSION));
        TaskQueue<String> producer = queue(operator, name, "producer");
        String id = producer.put("x");
        TaskQueue<String> consumer = queue(closing(Clients.connect(zk.connectString(), SESSION)), name, "consumer");

        Task<String> task = consumer.poll(WAIT).orElseThrow();
        String claimPath = "/zkr/queues/" + name + "/claims/" + id.replace('/', '-');
        assertThat(operator.curator().checkExists().forPath(claimPath)).as("the consumer's claim node").isNotNull();
        operator.curator().delete().forPath(claimPath);

        assertThatThrownBy(task::ack).as("an ack on a claim that is no longer there")
                .isInstanceOf(LeadershipLostException.class)
                .hasMessageContaining("not acknowledged");
        assertRefusedTaskIsDeliveredAgain(producer, consumer, id);
    }

    /** The task whose ack was refused is still there, acknowledged by nobody; delivered again, its ack takes it. */
    private static void assertRefusedTaskIsDeliveredAgain(TaskQueue<String> producer, TaskQueue<String> consumer, String id)
            throws InterruptedException {
        assertThat(producer.size()).as("the task, acknowledged by nobody").isEqualTo(1);
        Task<String> again = consumer.poll(WAIT).orElseThrow();
        assertThat(again.id()).isEqualTo(id);
        again.ack();
        assertThat(producer.size()).isZero();
    }

    @Test
    void aReleaseWhoseOutcomeWasUnknownNeverRemovesTheClaimAnotherConsumerMadeSince() throws Exception {
        String name = newName("release");
        ZkRecipes operator = closing(Clients.connect(zk.connectString(), SESSION));
        TaskQueue<String> producer = queue(operator, name, "producer");
        String id = producer.put("x");

        // consumer A behind a proxy, retrying once only: its release fails fast once two replies are lost
        LoopbackProxy proxy = closing(LoopbackProxy.to(zk.port()));
        ZkRecipes clientA = closing(ZkRecipes.builder().connectString(proxy.connectString()).sessionTimeout(SESSION)
                .connectionTimeout(Duration.ofSeconds(3)).retryPolicy(new RetryNTimes(1, 50)).build());
        clientA.start();
        assertThat(clientA.awaitConnected(WAIT)).isTrue();
        TaskQueue<String> a = queue(clientA, name, "consumer-a");
        TaskQueue<String> b = queue(closing(Clients.connect(zk.connectString(), SESSION)), name, "consumer-b");

        Task<String> held = a.poll(WAIT).orElseThrow();
        assertThat(held.id()).isEqualTo(id);
        // B waits for the task: it gets it once A's release lands
        CompletableFuture<Task<String>> taken = CompletableFuture.supplyAsync(() -> {
            try {
                return b.poll(Duration.ofSeconds(20)).orElseThrow();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });

        LostReply lost = proxy.loseReplies(2, Opcodes.MULTI);
        assertThatThrownBy(held::release).as("a release applied, its reply and its retry's reply lost")
                .isInstanceOf(ZkRecipeException.class);
        lost.await(WAIT);

        Task<String> ofB = taken.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(ofB.id()).isEqualTo(id);
        assertThat(holders(producer)).containsExactly("consumer-b");
        // A settles its release in doubt about a second after the failure: B's claim must outlive that
        await().during(Duration.ofMillis(2500)).atMost(Duration.ofSeconds(5))
                .until(() -> holders(producer).equals(List.of("consumer-b")));

        ofB.ack();
        assertThat(producer.size()).as("B's ack took the task").isZero();
        assertThat(producer.claims()).isEmpty();
    }

    /** A client behind its own proxy that retries once only, so a fault fails a call fast. */
    private ZkRecipes proxiedFailingFast(LoopbackProxy proxy) throws InterruptedException {
        ZkRecipes client = closing(ZkRecipes.builder().connectString(proxy.connectString()).sessionTimeout(SESSION)
                .connectionTimeout(Duration.ofSeconds(1)).retryPolicy(new RetryNTimes(1, 50)).build());
        client.start();
        assertThat(client.awaitConnected(WAIT)).isTrue();
        return client;
    }

    @Test
    void anAckCalledAgainAfterAFailureIsRefusedOnceTheClaimWentWithItsSession() throws Exception {
        String name = newName("ack-again");
        ZkRecipes operator = closing(Clients.connect(zk.connectString(), SESSION));
        TaskQueue<String> producer = queue(operator, name, "producer");
        String id = producer.put("x");
        LoopbackProxy proxy = closing(LoopbackProxy.to(zk.port()));
        ZkRecipes client = proxiedFailingFast(proxy);
        TaskQueue<String> q = queue(client, name, "consumer");
        Task<String> task = q.poll(WAIT).orElseThrow();

        proxy.blackhole();
        assertThatThrownBy(task::ack).as("an ack that never reached the server").isInstanceOf(ZkRecipeException.class)
                .isNotInstanceOf(LeadershipLostException.class);
        long before = client.curator().getZookeeperClient().getZooKeeper().getSessionId();
        SessionKiller.expire(before, client.curator().getZookeeperClient().getZooKeeper().getSessionPasswd(),
                zk.connectString());
        proxy.heal();
        await().atMost(WAIT).until(() -> client.curator().getZookeeperClient().isConnected()
                && client.curator().getZookeeperClient().getZooKeeper().getSessionId() != before);

        assertThatThrownBy(task::ack).as("the same ack, called again on a claim that went with its session")
                .isInstanceOf(LeadershipLostException.class);
        assertRefusedTaskIsDeliveredAgain(producer, q, id);
    }

    @Test
    void aHandlerThatAcknowledgesAndThenThrowsKeepsItsWorker() throws Exception {
        String name = newName("ack-then-throw");
        ZkRecipes operator = closing(Clients.connect(zk.connectString(), SESSION));
        TaskQueue<String> producer = queue(operator, name, "producer");
        TaskQueue<String> q = queue(closing(Clients.connect(zk.connectString(), SESSION)), name, "consumer");
        List<String> handled = new CopyOnWriteArrayList<>();
        Subscription subscription = closing(q.consume(task -> {
            handled.add(task.payload());
            if (task.payload().equals("first")) {
                task.ack();
                throw new IllegalStateException("a handler failing after it acknowledged its task");
            }
        }, ConsumeOptions.concurrency(1)));

        producer.put("first");
        await().atMost(WAIT).until(() -> handled.contains("first"));
        producer.put("second");
        await().atMost(WAIT).until(() -> handled.contains("second"));
        assertThat(handled).containsExactly("first", "second");
        await().atMost(WAIT).until(() -> producer.size() == 0);
    }
}
