package dev.zkrecipes.it.queue;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.zkrecipes.core.PayloadTooLargeException;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.queue.ConsumeOptions;
import dev.zkrecipes.queue.Serializers;
import dev.zkrecipes.queue.Subscription;
import dev.zkrecipes.queue.Task;
import dev.zkrecipes.queue.TaskQueue;
import dev.zkrecipes.testing.Clients;
import dev.zkrecipes.testing.EmbeddedZk;
import dev.zkrecipes.testing.LoopbackProxy.LostReply;
import dev.zkrecipes.testing.LoopbackProxy.Opcodes;
import dev.zkrecipes.testing.ProxiedClient;
import dev.zkrecipes.testing.ZkServers;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * TaskQueue under ambiguous outcomes, closes mid-claim, failing handlers, an operator's hands,
 * session expiry and oversized batches, on one real server:
 * <ul>
 *   <li>a claim whose reply is lost after the server applied it is still ours, at attempt 1;
 *   <li>{@link Subscription#close()} while claims are in flight strands none: another consumer
 *       drains the queue while the first client's session is still alive;
 *   <li>a handler that throws an {@link Error} does not kill its worker;
 *   <li>foreign children under {@code tasks/} or a bucket, and junk in {@code tail}, are never
 *       delivered and never stop producers or consumers;
 *   <li>idle consumers are woken by a put after their session expired, not by their poll timeout;
 *   <li>reads on a never-used queue create nothing; names that would collide with another queue's
 *       layout are refused;
 *   <li>a task is finished once: ack after release and release after ack are refused, a second ack
 *       is a no-op;
 *   <li>a putAll whose real request is over the limit is refused before it is sent, and the client
 *       never goes SUSPENDED.
 * </ul>
 * Every lost-reply test waits for the proxy to confirm it dropped the reply, so it cannot pass
 * without the fault having happened.
 */
class QueueAmbiguityIT {

    /**
     * This class's server reaps empty container nodes every 200 ms (ZooKeeper's default is 60 s), so
     * a test can tell a container left by a read from a persistent node: set before the server
     * starts, restored after it stops.
     */
    @RegisterExtension
    @Order(1)
    static final ContainerReaping reaping = new ContainerReaping(Duration.ofMillis(200));

    @RegisterExtension
    @Order(2)
    static final EmbeddedZk zk = EmbeddedZk.server();

    private static final Duration SESSION = Duration.ofSeconds(4);
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final Duration FAULT = Duration.ofSeconds(5);
    private static final AtomicInteger NAMES = new AtomicInteger();

    private final List<AutoCloseable> closeAfter = new ArrayList<>();
    private ZkRecipes operatorZk;

    @BeforeEach
    void setUp() {
        operatorZk = client();
    }

    @AfterEach
    void cleanUp() {
        for (int i = closeAfter.size() - 1; i >= 0; i--) {
            AutoCloseable c = closeAfter.get(i);
            if (c instanceof Subscription s) {
                closeWithin(s, Duration.ofSeconds(2));
            } else {
                ZkServers.closeQuietly(c);
            }
        }
        closeAfter.clear();
    }

    /**
     * Closes {@code s}, waiting at most {@code bound}: a close that takes longer is reported by the
     * tests that time it, not by every test that merely stops its consumers (its threads are daemons
     * and stop on their own).
     */
    private static void closeWithin(Subscription s, Duration bound) {
        try {
            CompletableFuture.runAsync(s::close).get(bound.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception slowOrFailed) {
            // see closingASubscriptionWhoseThreadsJustWentIdleReturnsAtOnce and
            // closingIdleConsumersWhileAForeignChildSitsInTheTailBucketReturnsAtOnce
        }
    }

    /** Packets the server has received so far: the "Received" line of its srvr command. */
    private static long serverPacketsReceived() throws Exception {
        try (Socket s = new Socket("127.0.0.1", zk.port())) {
            s.setSoTimeout(2000);
            s.getOutputStream().write("srvr".getBytes(US_ASCII));
            s.getOutputStream().flush();
            String reply = new String(s.getInputStream().readAllBytes(), US_ASCII);
            for (String line : reply.split("\n")) {
                if (line.startsWith("Received:")) {
                    return Long.parseLong(line.substring("Received:".length()).trim());
                }
            }
            throw new IllegalStateException("no 'Received:' line in the server's srvr reply: " + reply);
        }
    }

    /** Packets the server receives during {@code period}. */
    private static long serverPacketsDuring(Duration period) throws Exception {
        long before = serverPacketsReceived();
        await().pollDelay(period).atMost(period.plusSeconds(5)).until(() -> true);
        return serverPacketsReceived() - before;
    }

    // ---- helpers ----

    /** Sets ZooKeeper's container check interval for the servers started while it is on. */
    static final class ContainerReaping implements BeforeAllCallback, AfterAllCallback {
        private static final String PROPERTY = "znode.container.checkIntervalMs";
        private final Duration interval;
        private String previous;

        ContainerReaping(Duration interval) {
            this.interval = interval;
        }

        @Override
        public void beforeAll(ExtensionContext context) {
            previous = System.getProperty(PROPERTY);
            System.setProperty(PROPERTY, Long.toString(interval.toMillis()));
        }

        @Override
        public void afterAll(ExtensionContext context) {
            if (previous == null) {
                System.clearProperty(PROPERTY);
            } else {
                System.setProperty(PROPERTY, previous);
            }
        }
    }

    private static String newName(String what) {
        return "qa/" + what + "-" + NAMES.incrementAndGet();
    }

    private static String base(String name) {
        return "/zkr/queues/" + name;
    }

    private <C extends AutoCloseable> C closing(C closeable) {
        closeAfter.add(closeable);
        return closeable;
    }

    /** A client on its own 4 s session, straight to the server; closed after the test. */
    private ZkRecipes client() {
        return closing(Clients.connect(zk.connectString(), SESSION));
    }

    /** A client on its own 4 s session behind its own fault proxy; closed after the test. */
    private ProxiedClient proxied() {
        return closing(zk.proxiedClient(SESSION));
    }

    /** Raw Curator of a separate client: what an operator with zkCli would do. */
    private CuratorFramework operator() {
        return operatorZk.curator();
    }

    private static TaskQueue<String> queue(ZkRecipes client, String name) {
        return TaskQueue.builder(client, name, Serializers.utf8()).build();
    }

    private List<String> children(String path) throws Exception {
        try {
            return operator().getChildren().forPath(path);
        } catch (KeeperException.NoNodeException none) {
            return List.of();
        }
    }

    private Stat stat(String path) throws Exception {
        return operator().checkExists().forPath(path);
    }

    private static long sessionId(ZkRecipes client) throws Exception {
        return client.curator().getZookeeperClient().getZooKeeper().getSessionId();
    }

    private static List<String> payloads(String prefix, int n) {
        List<String> all = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            all.add(prefix + i);
        }
        return all;
    }

    // ---- 1. a claim whose reply is lost ----

    @Test
    void claimWhoseMultiReplyIsLostIsStillOursAtAttemptOneAndItsAckEmptiesTheQueue() throws Exception {
        String name = newName("claim-lost");
        TaskQueue<String> producer = queue(operatorZk, name);
        String id = producer.put("only");
        ProxiedClient consumer = proxied();
        TaskQueue<String> q = queue(consumer.zk(), name);

        LostReply lost = consumer.proxy().loseNextReply(Opcodes.MULTI);
        Optional<Task<String>> polled = q.poll(Duration.ofSeconds(5));
        lost.await(FAULT);

        assertThat(polled).as("the only task, whose claim (one multi) the server applied but whose reply was lost")
                .isPresent();
        Task<String> task = polled.get();
        assertThat(task.id()).isEqualTo(id);
        assertThat(task.payload()).isEqualTo("only");
        assertThat(task.attempt()).isEqualTo(1);
        assertThat(children(base(name) + "/claims")).as("our one claim").hasSize(1);

        task.ack();
        assertThat(producer.size()).isZero();
        assertThat(children(base(name) + "/claims")).isEmpty();
        assertThat(queue(client(), name).poll(Duration.ofMillis(300))).isEmpty();
    }

    @Test
    void claimWhoseMultiReplyIsLostCountsOneDeliverySoItsReleaseComesBackAtAttemptTwo() throws Exception {
        String name = newName("claim-lost-release");
        TaskQueue<String> producer = queue(operatorZk, name);
        String id = producer.put("only");
        ProxiedClient consumer = proxied();
        TaskQueue<String> q = queue(consumer.zk(), name);

        LostReply lost = consumer.proxy().loseNextReply(Opcodes.MULTI);
        Optional<Task<String>> polled = q.poll(Duration.ofSeconds(5));
        lost.await(FAULT);
        assertThat(polled).as("the task whose claim reply was lost").isPresent();
        assertThat(polled.get().attempt()).isEqualTo(1);
        polled.get().release();

        Task<String> again = queue(client(), name).poll(WAIT).orElseThrow();
        assertThat(again.id()).isEqualTo(id);
        assertThat(again.attempt()).as("the lost-reply claim counted once, not once per send").isEqualTo(2);
        again.ack();
        assertThat(producer.size()).isZero();
    }

    // ---- 2. close() while claims are in flight ----

    @Test
    void closingASubscriptionWhileClaimsAreInFlightStrandsNoTaskAndAnotherConsumerDrainsTheRest() throws Exception {
        // the first subscription is closed after this many tasks were handled (each handler acks its
        // task itself). In the stalled rounds the handler of that task makes the proxy hold every
        // request from the client's next multi on; from then on handlers no longer ack and wait until
        // close() has begun, so the multi held is a claim, not an ack, and close() runs while that
        // claim is in flight; then the handlers return and the requests go through
        int[] closeAfterHandled = {10, 20, 30, 10};
        boolean[] stallClaims = {true, true, true, false};
        for (int round = 0; round < closeAfterHandled.length; round++) {
            String name = newName("close-round" + round);
            TaskQueue<String> producer = queue(operatorZk, name);
            List<String> ids = producer.putAll(payloads("r" + round + "-", 50));
            Map<String, AtomicInteger> handled = new ConcurrentHashMap<>();
            AtomicInteger count = new AtomicInteger();
            CountDownLatch reached = new CountDownLatch(1);
            int threshold = closeAfterHandled[round];
            boolean stall = stallClaims[round];
            CountDownLatch closing = new CountDownLatch(stall ? 1 : 0);
            // acks (read side) never overlap the arming of the stall (write side)
            ReadWriteLock arming = new ReentrantReadWriteLock();
            AtomicBoolean armed = new AtomicBoolean();
            // the first client stays open (its session alive) until the rest is drained: a claim
            // stranded by close() would keep its task from everyone else
            try (ProxiedClient first = zk.proxiedClient(SESSION); ZkRecipes second = Clients.connect(zk.connectString(), SESSION)) {
                Subscription s1 = queue(first.zk(), name).consume(task -> {
                    handled.computeIfAbsent(task.id(), k -> new AtomicInteger()).incrementAndGet();
                    arming.readLock().lock();
                    try {
                        if (!armed.get()) {
                            task.ack();
                        }
                    } finally {
                        arming.readLock().unlock();
                    }
                    int n = count.incrementAndGet();
                    if (n == threshold) {
                        arming.writeLock().lock();
                        try {
                            if (stall) {
                                first.proxy().stallRequestsFrom(Opcodes.MULTI);
                            }
                            armed.set(true);
                        } finally {
                            arming.writeLock().unlock();
                        }
                        reached.countDown();
                    }
                    if (n >= threshold) {
                        closing.await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                    }
                }, ConsumeOptions.concurrency(4));
                try {
                    assertThat(reached.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).as("round %d: %d tasks handled", round, threshold)
                            .isTrue();
                    CompletableFuture<Void> closed;
                    if (stall) {
                        // normally a claim is held at once; if every thread happened to be in a handler, none is
                        first.proxy().awaitStalledRequest(Duration.ofSeconds(1));
                        closed = CompletableFuture.runAsync(s1::close);
                        // close() acts while the claim is in flight, then handlers finish and requests go through
                        await().pollDelay(Duration.ofMillis(300)).atMost(WAIT).until(() -> true);
                        closing.countDown();
                        first.proxy().releaseRequests();
                    } else {
                        closed = CompletableFuture.runAsync(s1::close);
                    }
                    closed.get(10, TimeUnit.SECONDS);
                    assertThat(s1.isActive()).isFalse();
                } finally {
                    closing.countDown();
                    first.proxy().releaseRequests();
                    s1.close();
                }

                try (Subscription s2 = queue(second, name).consume(
                        task -> handled.computeIfAbsent(task.id(), k -> new AtomicInteger()).incrementAndGet(),
                        ConsumeOptions.concurrency(2))) {
                    int r = round;
                    await("round " + r + ": every task handled, the queue empty, no claim left").atMost(Duration.ofSeconds(15))
                            .untilAsserted(() -> {
                                assertThat(handled.keySet()).as("round %d: handled task ids", r).containsAll(ids);
                                assertThat(children(base(name) + "/claims")).as("round %d: claims left", r).isEmpty();
                                assertThat(producer.size()).as("round %d: tasks left", r).isZero();
                            });
                }
                assertThat(handled.keySet()).containsExactlyInAnyOrderElementsOf(ids);
                assertThat(producer.deadLetters(10)).isEmpty();
            }
        }
    }

    @Test
    void closingASubscriptionWhoseThreadsJustWentIdleReturnsAtOnce() throws Exception {
        // ConsumeOptions: an idle thread "wakes at once on close"; no handler runs here, so close()
        // has nothing to wait for. Many short rounds: the threads go idle while acks land and
        // their watches fire, which is when a wake-up can be lost
        String name = newName("close-idle");
        TaskQueue<String> producer = queue(operatorZk, name);
        ZkRecipes consumerZk = client();
        for (int round = 0; round < 15; round++) {
            List<String> payloads = payloads("r" + round + "-", 4);
            producer.putAll(payloads);
            Set<String> handled = ConcurrentHashMap.newKeySet();
            Subscription s = queue(consumerZk, name).consume(task -> handled.add(task.payload()), new ConsumeOptions(2, Duration.ofSeconds(30)));
            try {
                await().atMost(WAIT).until(() -> handled.containsAll(payloads));
                long start = System.nanoTime();
                CompletableFuture<Void> closed = CompletableFuture.runAsync(s::close);
                int r = round;
                assertThatCode(() -> closed.get(3, TimeUnit.SECONDS))
                        .as("round %d: close() of a subscription with no handler running", r).doesNotThrowAnyException();
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
            } finally {
                closing(s);
            }
        }
    }

    // ---- 3. a handler that throws an Error ----

    @Test
    void handlerThrowingAnErrorGetsItsTaskRedeliveredAndTheWorkerKeepsConsuming() throws Exception {
        String name = newName("handler-error");
        TaskQueue<String> producer = queue(operatorZk, name);
        producer.putAll(payloads("t", 5));
        Map<String, List<Integer>> deliveries = new ConcurrentHashMap<>();
        Set<String> done = ConcurrentHashMap.newKeySet();
        // one worker: if the Error kills it, nothing else is ever consumed
        Subscription s = closing(queue(client(), name).consume(task -> {
            deliveries.computeIfAbsent(task.payload(), k -> new CopyOnWriteArrayList<>()).add(task.attempt());
            if (task.payload().equals("t0") && task.attempt() == 1) {
                throw new AssertionError("the first delivery of t0 fails with an Error");
            }
            done.add(task.payload());
        }, ConsumeOptions.concurrency(1)));

        // the handler's own Error must not fail this test through Awaitility's uncaught-exception
        // check: what counts is whether the task comes back and the worker goes on
        await().dontCatchUncaughtExceptions().atMost(WAIT)
                .untilAsserted(() -> assertThat(done).containsExactlyInAnyOrderElementsOf(payloads("t", 5)));
        assertThat(deliveries.get("t0")).containsExactly(1, 2);
        assertThat(s.isActive()).isTrue();

        producer.put("later");
        await().dontCatchUncaughtExceptions().atMost(WAIT).until(() -> done.contains("later"));
        assertThat(s.isActive()).isTrue();
        await().dontCatchUncaughtExceptions().atMost(WAIT).until(() -> producer.size() == 0);
    }

    // ---- 4. foreign and junk nodes ----

    @Test
    void foreignChildrenUnderTasksAndTheBucketAreNeverDeliveredAndConsumersKeepHandlingNewTasks() throws Exception {
        String name = newName("foreign");
        String tasks = base(name) + "/tasks";
        TaskQueue<String> producer = queue(operatorZk, name);
        producer.put("before");
        Set<String> handled = ConcurrentHashMap.newKeySet();
        List<String> handledPayloads = new CopyOnWriteArrayList<>();
        List<String> handledIds = new CopyOnWriteArrayList<>();
        TaskHandlerRecorder record = new TaskHandlerRecorder(handled, handledPayloads, handledIds);

        // a consumer running (and idle) when the operator adds the foreign nodes
        Subscription running = closing(queue(client(), name).consume(record::handle, new ConsumeOptions(2, Duration.ofSeconds(30))));
        await().atMost(WAIT).until(() -> handled.contains("before"));
        List<String> buckets = new ArrayList<>(children(tasks));
        Collections.sort(buckets);
        assertThat(buckets).as("buckets after the first put").isNotEmpty();
        String bucket = buckets.get(buckets.size() - 1);
        operator().create().forPath(tasks + "/zzz");
        operator().create().forPath(tasks + "/zzz-0000000001");
        operator().create().forPath(tasks + "/" + bucket + "/zzz");

        producer.put("a");
        producer.putAll(List.of("b", "c"));
        await("the running consumer handles the tasks put after the foreign nodes").atMost(WAIT)
                .untilAsserted(() -> assertThat(handled).containsExactlyInAnyOrder("before", "a", "b", "c"));
        closeWithin(running, Duration.ofSeconds(2));

        // a producer and a consumer that start after the foreign nodes are there
        ZkRecipes later = client();
        queue(later, name).put("d");
        producer.put("e");
        closing(queue(later, name).consume(record::handle, new ConsumeOptions(2, Duration.ofSeconds(30))));
        await("a new consumer handles the tasks put after the foreign nodes").atMost(WAIT)
                .untilAsserted(() -> assertThat(handled).containsExactlyInAnyOrder("before", "a", "b", "c", "d", "e"));
        // nothing else arrives: the foreign nodes, still there, are never delivered
        await().pollDelay(Duration.ofMillis(500)).atMost(WAIT).until(() -> true);
        assertThat(handledPayloads).containsExactlyInAnyOrder("before", "a", "b", "c", "d", "e");
        assertThat(handledIds).noneMatch(id -> id.contains("zzz"));
    }

    @Test
    void aForeignChildInTheTailBucketKeepsNoIdleConsumerBusy() throws Exception {
        String name = newName("foreign-idle");
        String tasks = base(name) + "/tasks";
        TaskQueue<String> producer = queue(operatorZk, name);
        producer.put("before");
        Set<String> handled = ConcurrentHashMap.newKeySet();
        Subscription s = closing(queue(client(), name).consume(task -> handled.add(task.payload()),
                new ConsumeOptions(2, Duration.ofSeconds(30))));
        await().atMost(WAIT).until(() -> handled.contains("before"));
        await().pollDelay(Duration.ofMillis(300)).atMost(WAIT).until(() -> true);
        // control: two idle consumers (and this test's other clients) send next to nothing but pings
        long quiet = serverPacketsDuring(Duration.ofSeconds(1));

        List<String> buckets = new ArrayList<>(children(tasks));
        Collections.sort(buckets);
        operator().create().forPath(tasks + "/" + buckets.get(buckets.size() - 1) + "/zzz");
        await().pollDelay(Duration.ofMillis(300)).atMost(WAIT).until(() -> true);
        long withForeignChild = serverPacketsDuring(Duration.ofSeconds(1));
        assertThat(withForeignChild).as("packets the server received in 1 s with a foreign child in the tail bucket"
                + " and the consumers idle (%d without it): an idle consumer must wait, not poll", quiet)
                .isLessThan(Math.max(50, 5 * quiet));
        assertThat(handled).containsExactly("before");
    }

    @Test
    void closingIdleConsumersWhileAForeignChildSitsInTheTailBucketReturnsAtOnce() throws Exception {
        // ConsumeOptions: an idle thread wakes at once on close. Several rounds, each a new
        // subscription of two threads that handle a few tasks and are closed as they go idle
        // (their acks landing, their watches firing), a foreign child in the tail bucket
        String name = newName("foreign-close");
        String tasks = base(name) + "/tasks";
        TaskQueue<String> producer = queue(operatorZk, name);
        producer.put("before");
        queue(operatorZk, name).poll(WAIT).orElseThrow().ack();
        List<String> buckets = new ArrayList<>(children(tasks));
        Collections.sort(buckets);
        operator().create().forPath(tasks + "/" + buckets.get(buckets.size() - 1) + "/zzz");
        ZkRecipes consumerZk = client();
        for (int round = 0; round < 6; round++) {
            List<String> payloads = payloads("r" + round + "-", 3);
            producer.putAll(payloads);
            Set<String> handled = ConcurrentHashMap.newKeySet();
            Subscription s = closing(queue(consumerZk, name).consume(task -> handled.add(task.payload()),
                    new ConsumeOptions(2, Duration.ofSeconds(30))));
            await().atMost(WAIT).until(() -> handled.containsAll(payloads));
            await().pollDelay(Duration.ofMillis(round % 2 == 0 ? 0 : 500)).atMost(WAIT).until(() -> true);
            CompletableFuture<Void> closed = CompletableFuture.runAsync(s::close);
            int r = round;
            assertThatCode(() -> closed.get(3, TimeUnit.SECONDS)).as("round %d: close() of two idle consumers", r)
                    .doesNotThrowAnyException();
        }
    }

    @Test
    void junkInTheTailDoesNotStopPutsOrConsumers() throws Exception {
        String name = newName("junk-tail");
        TaskQueue<String> producer = queue(operatorZk, name);
        producer.put("before");
        Set<String> handled = ConcurrentHashMap.newKeySet();
        List<String> handledPayloads = new CopyOnWriteArrayList<>();
        TaskHandlerRecorder record = new TaskHandlerRecorder(handled, handledPayloads, new CopyOnWriteArrayList<>());

        Subscription running = closing(queue(client(), name).consume(record::handle, new ConsumeOptions(2, Duration.ofSeconds(30))));
        await().atMost(WAIT).until(() -> handled.contains("before"));
        operator().setData().forPath(base(name) + "/tail", "not-a-number".getBytes(US_ASCII));

        producer.put("a");
        producer.putAll(List.of("b", "c"));
        await("the running consumer handles the tasks put after the junk").atMost(WAIT)
                .untilAsserted(() -> assertThat(handled).containsExactlyInAnyOrder("before", "a", "b", "c"));
        closeWithin(running, Duration.ofSeconds(2));

        // a producer and a consumer whose handles are built after the junk was written
        ZkRecipes later = client();
        TaskQueue<String> laterProducer = queue(later, name);
        laterProducer.put("d");
        laterProducer.putAll(List.of("e", "f"));
        closing(queue(later, name).consume(record::handle, new ConsumeOptions(2, Duration.ofSeconds(30))));
        await("a new consumer handles the tasks put after the junk").atMost(WAIT)
                .untilAsserted(() -> assertThat(handled).containsExactlyInAnyOrder("before", "a", "b", "c", "d", "e", "f"));
        assertThat(handledPayloads).containsExactlyInAnyOrder("before", "a", "b", "c", "d", "e", "f");
        await().atMost(WAIT).until(() -> producer.size() == 0);
    }

    /** Records what a consumer was handed. */
    private record TaskHandlerRecorder(Set<String> payloads, List<String> everyPayload, List<String> ids) {
        void handle(Task<String> task) {
            payloads.add(task.payload());
            everyPayload.add(task.payload());
            ids.add(task.id());
        }
    }

    // ---- 5. idle consumers after session expiry ----

    @Test
    void idleConsumersAreWokenByAPutWithinTwoSecondsAfterTheirSessionExpired() throws Exception {
        String name = newName("expiry");
        TaskQueue<String> producer = queue(operatorZk, name);
        ProxiedClient consumer = proxied();
        List<ConnectionState> states = new CopyOnWriteArrayList<>();
        consumer.zk().curator().getConnectionStateListenable().addListener((c, state) -> states.add(state));
        Set<String> handled = ConcurrentHashMap.newKeySet();
        // put before the consumers start, so that the queue's nodes exist when they first wait (a
        // first put racing a waiting consumer is aConsumerWaitingOnANeverUsedQueueIsWokenByTheFirstPut)
        producer.put("warm-up");
        // a long poll timeout: only a wake-up, not the end of a poll, can deliver within 2 s
        closing(queue(consumer.zk(), name).consume(task -> handled.add(task.payload()), new ConsumeOptions(2, Duration.ofSeconds(30))));
        await().atMost(WAIT).until(() -> handled.contains("warm-up"));
        // both handler threads find the queue empty and wait in their poll
        await().pollDelay(Duration.ofMillis(500)).atMost(WAIT).until(() -> true);

        long before = sessionId(consumer.zk());
        consumer.expireSession();
        await("the consumer's client reconnected on a new session").atMost(WAIT).until(() -> states.contains(ConnectionState.LOST)
                && states.lastIndexOf(ConnectionState.RECONNECTED) > states.indexOf(ConnectionState.LOST)
                && consumer.zk().curator().getZookeeperClient().isConnected());
        assertThat(sessionId(consumer.zk())).isNotEqualTo(before);

        for (String payload : List.of("after-expiry-1", "after-expiry-2")) {
            producer.put(payload);
            await(payload + " handled within 2 s of its put").atMost(Duration.ofSeconds(2)).until(() -> handled.contains(payload));
        }
    }

    // ---- 6. reads create nothing ----

    @Test
    void readsOnANeverUsedQueueCreateNoNodesAndTheFirstPutMakesItUsable() throws Exception {
        String name = newName("reads");
        String base = base(name);
        TaskQueue<String> q = queue(client(), name);
        assertThat(children(base)).as("under %s after build()", base).isEmpty();
        assertThat(q.size()).isZero();
        assertThat(q.deadLetters(10)).isEmpty();
        assertThat(children(base)).as("under %s after size() and deadLetters(10)", base).isEmpty();

        assertThat(q.poll(Duration.ZERO)).isEmpty();
        assertThat(q.poll(Duration.ofMillis(200))).isEmpty();
        String when = "after poll(0) and poll(200 ms) returned";
        for (String node : List.of("tasks", "tail", "claims", "dead")) {
            assertThat(stat(base + "/" + node)).as("%s: %s/%s", when, base, node).isNull();
        }
        // only the idle line may be left, empty, and only as a container the server reaps: ZooKeeper
        // reports a container's ephemeralOwner as 0, like a persistent node's, so what tells them
        // apart is that this class's server reaps empty containers within a few 100 ms
        for (String child : children(base)) {
            assertThat(child).as("%s: %s/%s", when, base, child).isEqualTo("waiters");
            assertThat(children(base + "/" + child)).as("%s: left under %s/%s", when, base, child).isEmpty();
        }
        await(when + ": no node left under " + base + " once empty containers are reaped").atMost(Duration.ofSeconds(3))
                .until(() -> children(base).isEmpty());

        String id = q.put("first");
        Task<String> task = queue(client(), name).poll(WAIT).orElseThrow();
        assertThat(task.id()).isEqualTo(id);
        assertThat(task.payload()).isEqualTo("first");
        assertThat(task.attempt()).isEqualTo(1);
        task.ack();
        assertThat(q.size()).isZero();
    }

    @Test
    void aConsumerWaitingOnANeverUsedQueueIsWokenByTheFirstPut() throws Exception {
        String name = newName("first-put");
        ProxiedClient producerClient = proxied();
        TaskQueue<String> producer = queue(producerClient.zk(), name);
        Set<String> handled = ConcurrentHashMap.newKeySet();
        // a long poll timeout: only a wake-up, not the end of a poll, can deliver within 2 s
        closing(queue(client(), name).consume(task -> handled.add(task.payload()), new ConsumeOptions(1, Duration.ofSeconds(30))));
        // the consumer finds nothing and waits
        await().pollDelay(Duration.ofMillis(500)).atMost(WAIT).until(() -> true);

        // the first put makes the queue's nodes; hold it at its first read, i.e. (today) after it
        // created tail but before it created the bucket the task goes into, so that the waiting
        // consumer, woken by tail, looks for work in between
        producerClient.proxy().stallRequestsFrom(Opcodes.GET_DATA);
        CompletableFuture<String> put;
        try {
            put = CompletableFuture.supplyAsync(() -> producer.put("first"));
            producerClient.proxy().awaitStalledRequest(Duration.ofSeconds(2));
            await().pollDelay(Duration.ofMillis(500)).atMost(WAIT).until(() -> true);
        } finally {
            producerClient.proxy().releaseRequests();
        }
        put.get(10, TimeUnit.SECONDS);
        await("the first task handled within 2 s of its put").atMost(Duration.ofSeconds(2)).until(() -> handled.contains("first"));
    }

    // ---- 7. names that collide with another queue's layout ----

    @ParameterizedTest
    @ValueSource(strings = {"x/tasks", "x/dead", "x/claims", "x/tail", "x/waiters"})
    void aNameEndingInAnotherQueuesLayoutNodeIsRefused(String name) {
        assertThatThrownBy(() -> TaskQueue.builder(operatorZk, name, Serializers.utf8()).build())
                .isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"x/tasks/b0000000000", "x/claims/y"})
    void aNameNestedInsideAnotherQueuesLayoutIsRefused(String name) {
        assertThatThrownBy(() -> TaskQueue.builder(operatorZk, name, Serializers.utf8()).build())
                .isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"x/task", "x/tasks-archive", "x/deadline"})
    void aNameThatOnlyResemblesALayoutNodeIsAcceptedAndUsable(String name) throws Exception {
        TaskQueue<String> q = queue(operatorZk, name);
        q.put("one");
        Task<String> task = q.poll(WAIT).orElseThrow();
        assertThat(task.payload()).isEqualTo("one");
        task.ack();
    }

    // ---- 8. a task is finished once ----

    @Test
    void ackAfterReleaseAndReleaseAfterAckAreRefusedAndASecondAckIsANoOp() throws Exception {
        String name = newName("lifecycle");
        TaskQueue<String> q = queue(client(), name);
        String id = q.put("a");

        Task<String> first = q.poll(WAIT).orElseThrow();
        first.release();
        assertThatThrownBy(first::ack).isInstanceOf(IllegalStateException.class);

        Task<String> again = q.poll(WAIT).orElseThrow();
        assertThat(again.id()).as("the released task is still there and delivered again").isEqualTo(id);
        assertThat(again.attempt()).isEqualTo(2);
        again.ack();
        assertThatCode(again::ack).as("a second ack").doesNotThrowAnyException();
        assertThatThrownBy(again::release).isInstanceOf(IllegalStateException.class);
        assertThat(q.size()).isZero();
        assertThat(q.poll(Duration.ofMillis(200))).isEmpty();
    }

    // ---- 9. oversized batches ----

    @Test
    void putAllWhoseRealRequestIsOverTheLimitIsRefusedBeforeSendingAndABatchJustUnderIsAccepted() throws Exception {
        ZkRecipes producerZk = client();
        List<ConnectionState> states = new CopyOnWriteArrayList<>();
        producerZk.curator().getConnectionStateListenable().addListener((c, state) -> states.add(state));
        String kilobyte = "x".repeat(1024);

        // with a short name a create of 1 KB is ~1,112 bytes on the wire (payload, path, ACL, flags,
        // multi header): 1000 of them are ~1.11 MB and 950 ~1.06 MB, both over jute.maxbuffer
        // (1,048,575), though 950 x (1 KB + 64) fits the old estimate; 900 are ~1.0 MB, under it.
        // A 200-character name makes each create ~1,310 bytes: 900 of them are ~1.18 MB.
        String longName = newName("p") + "/" + "n".repeat(200);
        record Batch(String name, int count) {
        }
        for (Batch over : List.of(new Batch(newName("p"), 1000), new Batch(newName("p"), 950), new Batch(longName, 900))) {
            TaskQueue<String> q = queue(producerZk, over.name());
            assertThatThrownBy(() -> q.putAll(Collections.nCopies(over.count(), kilobyte)))
                    .as("%d tasks of 1 KB into '%s'", over.count(), over.name())
                    .isInstanceOf(PayloadTooLargeException.class);
            assertThat(q.size()).as("nothing put into '%s'", over.name()).isZero();
        }

        TaskQueue<String> q = queue(producerZk, newName("p"));
        assertThat(q.putAll(Collections.nCopies(900, kilobyte))).hasSize(900);
        assertThat(q.size()).isEqualTo(900);
        assertThat(states).as("connection states of the producer's client").doesNotContain(ConnectionState.SUSPENDED,
                ConnectionState.LOST);
    }
}
