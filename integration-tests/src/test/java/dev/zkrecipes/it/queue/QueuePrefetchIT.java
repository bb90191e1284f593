package dev.zkrecipes.it.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.queue.ClaimInfo;
import dev.zkrecipes.queue.ConsumeOptions;
import dev.zkrecipes.queue.QueuedTask;
import dev.zkrecipes.queue.Serializers;
import dev.zkrecipes.queue.Subscription;
import dev.zkrecipes.queue.Task;
import dev.zkrecipes.queue.TaskQueue;
import dev.zkrecipes.testing.Clients;
import dev.zkrecipes.testing.EmbeddedZk;
import dev.zkrecipes.testing.LoopbackProxy;
import dev.zkrecipes.testing.LoopbackProxy.LostReply;
import dev.zkrecipes.testing.LoopbackProxy.Opcodes;
import dev.zkrecipes.testing.ProxiedClient;
import dev.zkrecipes.testing.ZkServers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Batched claims ("prefetch") of {@link TaskQueue#consume}: a consumer thread claims up to 16 tasks
 * at once, hands out the first and keeps the others in its engine for the next calls of any thread
 * of the same handle ({@code poll()} included). What must still hold, on one real server:
 * <ul>
 *   <li>one consumer, one thread: exactly once, strictly FIFO, every delivery at attempt 1;
 *   <li>many consumers, many threads: nothing lost, every task acknowledged once, no claim left;
 *   <li>closing a subscription while tasks are claimed ahead strands none and gives back none
 *       counted: what was not handled is still queued at its attempt count;
 *   <li>a claim whose reply is lost is adopted or given back without counting a delivery;
 *   <li>a claim in doubt (its request outlived the wait) is given back at the delivery count the
 *       task had before, on its own and in a batch;
 *   <li>poll() and consume() on one handle share the tasks claimed ahead without losing any;
 *   <li>claimTimeout still frees what a hung handler holds, tasks claimed ahead included.
 * </ul>
 * Batching is checked to happen (claims held by the consumer beyond the task being handled), so
 * these tests cannot pass on a consumer that claims one task at a time.
 */
class QueuePrefetchIT {

    @RegisterExtension
    static final EmbeddedZk zk = EmbeddedZk.server();

    private static final Duration SESSION = Duration.ofSeconds(10);
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final AtomicInteger NAMES = new AtomicInteger();

    private final List<AutoCloseable> closeAfter = new ArrayList<>();
    private final List<CountDownLatch> openAfter = new ArrayList<>();
    private final List<ExecutorService> stopAfter = new ArrayList<>();

    @AfterEach
    void cleanUp() {
        openAfter.forEach(l -> {
            while (l.getCount() > 0) {
                l.countDown();
            }
        });
        stopAfter.forEach(ExecutorService::shutdownNow);
        for (int i = closeAfter.size() - 1; i >= 0; i--) {
            AutoCloseable c = closeAfter.get(i);
            if (c instanceof Subscription s) {
                closeWithin(s, Duration.ofSeconds(5));
            } else {
                ZkServers.closeQuietly(c);
            }
        }
        closeAfter.clear();
        openAfter.clear();
        stopAfter.clear();
    }

    // ---- helpers ----

    private static void closeWithin(Subscription s, Duration bound) {
        try {
            CompletableFuture.runAsync(s::close).get(bound.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception slowOrFailed) {
            // its threads are daemons
        }
    }

    private static String newName(String what) {
        return "prefetch/" + what + "-" + NAMES.incrementAndGet();
    }

    private static String base(String name) {
        return "/zkr/queues/" + name;
    }

    private <C extends AutoCloseable> C closing(C closeable) {
        closeAfter.add(closeable);
        return closeable;
    }

    private ZkRecipes client() {
        return closing(Clients.connect(zk.connectString(), SESSION));
    }

    /**
     * A client behind its own proxy whose closing calls (and so one batch of claims) wait at most
     * {@code connectionTimeout}: a request held longer by the proxy leaves its claim in doubt.
     */
    private record Faulty(LoopbackProxy proxy, ZkRecipes zk) {
    }

    private Faulty faulty(Duration connectionTimeout) {
        LoopbackProxy proxy = closing(LoopbackProxy.to(zk.port()));
        ZkRecipes client = closing(Clients.connect(proxy.connectString(), SESSION, connectionTimeout));
        return new Faulty(proxy, client);
    }

    private static TaskQueue<String> queue(ZkRecipes client, String name) {
        return TaskQueue.builder(client, name, Serializers.utf8()).build();
    }

    private static TaskQueue<String> queue(ZkRecipes client, String name, String consumerId) {
        return TaskQueue.builder(client, name, Serializers.utf8()).consumerId(consumerId).build();
    }

    private static List<String> payloads(String prefix, int n) {
        List<String> all = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            all.add(prefix + i);
        }
        return all;
    }

    /** Puts {@code n} tasks with putAll, {@code chunk} at a time; their ids in put order. */
    private static List<String> putAll(TaskQueue<String> q, String prefix, int n, int chunk) {
        List<String> ids = new ArrayList<>(n);
        List<String> all = payloads(prefix, n);
        for (int i = 0; i < n; i += chunk) {
            ids.addAll(q.putAll(all.subList(i, Math.min(n, i + chunk))));
        }
        return ids;
    }

    /** The ids of the tasks {@code consumer} holds a claim on now. */
    private static List<String> claimsBy(TaskQueue<?> anyHandle, String consumer) {
        return anyHandle.claims().stream()
                .filter(c -> c.consumer().filter(consumer::equals).isPresent())
                .map(ClaimInfo::taskId)
                .toList();
    }

    /** How many claims exist on the queue now: one read. */
    private static int claimCount(ZkRecipes client, String name) throws Exception {
        var stat = client.curator().checkExists().forPath(base(name) + "/claims");
        return stat == null ? 0 : stat.getNumChildren();
    }

    /** What a handler was handed. */
    private record Delivery(String id, String payload, int attempt, String by) {
    }

    private static Map<String, Long> countsById(List<Delivery> deliveries) {
        return deliveries.stream().collect(Collectors.groupingBy(Delivery::id, Collectors.counting()));
    }

    private static Map<String, Long> duplicates(List<Delivery> deliveries) {
        return countsById(deliveries).entrySet().stream().filter(e -> e.getValue() > 1)
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
    }

    private static void pause(Duration d) {
        await().pollDelay(d).atMost(d.plusSeconds(5)).until(() -> true);
    }

    // ---- 1. one consumer, one thread: exactly once, FIFO, attempt 1 ----

    @Test
    void oneConsumerOneThreadGetsTwoThousandTasksOnceInPutOrderAtAttemptOne() throws Exception {
        String name = newName("fifo");
        TaskQueue<String> producer = queue(client(), name);
        List<String> ids = putAll(producer, "f-", 2000, 500);

        TaskQueue<String> consumer = queue(client(), name, "fifo-consumer");
        List<Delivery> deliveries = Collections.synchronizedList(new ArrayList<>());
        Set<String> seen = ConcurrentHashMap.newKeySet();
        AtomicInteger maxAhead = new AtomicInteger();
        AtomicInteger samples = new AtomicInteger();
        Subscription s = closing(consumer.consume(task -> {
            deliveries.add(new Delivery(task.id(), task.payload(), task.attempt(), "c"));
            seen.add(task.id());
            // a few samples, late enough for batches to have grown: claims held beyond this one
            if (seen.size() >= 300 && maxAhead.get() == 0 && samples.incrementAndGet() <= 40) {
                long ahead = claimsBy(producer, "fifo-consumer").stream().filter(id -> !seen.contains(id)).count();
                maxAhead.accumulateAndGet((int) ahead, Math::max);
            }
        }, new ConsumeOptions(1, Duration.ofSeconds(30))));

        await("2000 deliveries").atMost(WAIT).until(() -> deliveries.size() >= 2000);
        pause(Duration.ofMillis(500)); // nothing more may come
        s.close();

        List<Delivery> all = List.copyOf(deliveries);
        assertThat(maxAhead.get()).as("tasks claimed ahead of the one being handled (batching happens)").isPositive();
        assertThat(duplicates(all)).as("tasks delivered more than once").isEmpty();
        assertThat(all.stream().map(Delivery::id).toList()).as("delivery order (one consumer: strict FIFO)")
                .containsExactlyElementsOf(ids);
        assertThat(all.stream().map(Delivery::payload).toList()).containsExactlyElementsOf(payloads("f-", 2000));
        assertThat(all).as("deliveries not at attempt 1").filteredOn(d -> d.attempt() != 1).isEmpty();
        await("every async ack landed").atMost(WAIT).untilAsserted(() -> {
            assertThat(producer.size()).isZero();
            assertThat(producer.claims()).isEmpty();
        });
    }

    // ---- 2. 4 consumers x 4 threads ----

    @Test
    void fourConsumersOfFourThreadsLoseNothingAndAcknowledgeEveryTaskOnce() throws Exception {
        String name = newName("many");
        TaskQueue<String> producer = queue(client(), name);
        List<Delivery> deliveries = Collections.synchronizedList(new ArrayList<>());
        Map<String, AtomicInteger> acks = new ConcurrentHashMap<>();
        List<String> ackFailures = Collections.synchronizedList(new ArrayList<>());
        List<Subscription> subs = new ArrayList<>();
        for (int c = 0; c < 4; c++) {
            String by = "many-" + c;
            boolean ackItself = c < 2; // two consumers ack in the handler (counted), two rely on the async ack
            TaskQueue<String> q = queue(client(), name, by);
            subs.add(closing(q.consume(task -> {
                deliveries.add(new Delivery(task.id(), task.payload(), task.attempt(), by));
                if (ackItself) {
                    try {
                        task.ack();
                        acks.computeIfAbsent(task.id(), k -> new AtomicInteger()).incrementAndGet();
                    } catch (RuntimeException e) {
                        ackFailures.add(task.id() + " by " + by + ": " + e);
                    }
                }
            }, new ConsumeOptions(4, Duration.ofSeconds(30)))));
        }
        // put while they consume
        List<String> ids = putAll(producer, "m-", 3000, 500);

        await("every task handled and the queue empty").atMost(Duration.ofSeconds(40)).until(
                () -> countsById(List.copyOf(deliveries)).keySet().containsAll(ids) && producer.size() == 0);
        subs.forEach(Subscription::close);
        await("no claim left").atMost(WAIT).untilAsserted(() -> assertThat(producer.claims()).isEmpty());

        List<Delivery> all = List.copyOf(deliveries);
        Map<String, Long> dups = duplicates(all);
        System.out.println("QueuePrefetchIT 4x4: " + all.size() + " deliveries of " + ids.size() + " tasks, "
                + dups.size() + " delivered more than once " + dups + "; per consumer "
                + all.stream().collect(Collectors.groupingBy(Delivery::by, Collectors.counting())));
        assertThat(countsById(all).keySet()).as("handled tasks").containsExactlyInAnyOrderElementsOf(ids);
        assertThat(ackFailures).as("acks refused in handlers").isEmpty();
        assertThat(acks.values()).as("acks per task (handlers that ack themselves)").allMatch(n -> n.get() == 1);
        assertThat(dups).as("tasks delivered more than once, without any fault").isEmpty();
        assertThat(all).as("deliveries not at attempt 1").filteredOn(d -> d.attempt() != 1).isEmpty();
    }

    // ---- 3. close while tasks are claimed ahead ----

    @Test
    void closingMidStreamStrandsNoClaimAndLeavesTheRestQueuedAtTheirAttemptCount() throws Exception {
        String name = newName("close");
        ZkRecipes operatorZk = client();
        TaskQueue<String> operator = queue(operatorZk, name);
        List<String> ids = putAll(operator, "c-", 2000, 500);

        ZkRecipes firstZk = client(); // stays open: its session alive through the checks below
        List<Delivery> first = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch reached = new CountDownLatch(1);
        AtomicInteger aheadSeen = new AtomicInteger();
        Set<String> seen = ConcurrentHashMap.newKeySet();
        Subscription s1 = closing(queue(firstZk, name, "closer").consume(task -> {
            first.add(new Delivery(task.id(), task.payload(), task.attempt(), "closer"));
            seen.add(task.id());
            int n = first.size();
            if (n >= 500 && reached.getCount() > 0) {
                // close as soon as this consumer holds tasks claimed ahead
                long ahead = claimsBy(operator, "closer").stream().filter(id -> !seen.contains(id)).count();
                if (ahead > 0 || n >= 700) {
                    aheadSeen.set((int) ahead);
                    reached.countDown();
                }
            }
        }, new ConsumeOptions(2, Duration.ofSeconds(30))));
        assertThat(reached.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).as("500 tasks handled").isTrue();
        CompletableFuture.runAsync(s1::close).get(10, TimeUnit.SECONDS);
        int handledAtClose = first.size();

        assertThat(aheadSeen.get()).as("tasks claimed ahead when close() began (batching happens)").isPositive();
        await("no claim of the closed subscription left, its session alive").atMost(WAIT)
                .untilAsserted(() -> assertThat(claimsBy(operator, "closer")).isEmpty());
        assertThat(firstZk.curator().getZookeeperClient().isConnected()).isTrue();
        List<Delivery> byFirst = List.copyOf(first);
        assertThat(byFirst).as("handler calls after close() returned").hasSize(handledAtClose);
        assertThat(duplicates(byFirst)).isEmpty();
        assertThat(byFirst).filteredOn(d -> d.attempt() != 1).isEmpty();
        Set<String> handledIds = countsById(byFirst).keySet();
        await("the handled tasks acknowledged").atMost(WAIT)
                .until(() -> operator.size() == ids.size() - handledIds.size());
        List<QueuedTask<String>> left = operator.peek(3000);
        Set<String> leftIds = left.stream().map(QueuedTask::id).collect(Collectors.toSet());
        assertThat(left).as("tasks left in the queue that are claimed or count a delivery")
                .filteredOn(t -> t.claimed() || t.deliveries() != 0)
                .extracting(t -> t.id() + " deliveries=" + t.deliveries() + " claimed=" + t.claimed())
                .isEmpty();
        assertThat(leftIds).as("handled tasks still in the queue").doesNotContainAnyElementsOf(handledIds);
        Set<String> union = new HashSet<>(leftIds);
        union.addAll(handledIds);
        assertThat(union).as("handled + left").containsExactlyInAnyOrderElementsOf(ids);

        // a second consumer drains the rest
        List<Delivery> second = Collections.synchronizedList(new ArrayList<>());
        Subscription s2 = closing(queue(client(), name, "drainer").consume(
                task -> second.add(new Delivery(task.id(), task.payload(), task.attempt(), "drainer")),
                new ConsumeOptions(2, Duration.ofSeconds(30))));
        await("the rest drained").atMost(WAIT).until(() -> second.size() >= leftIds.size());
        pause(Duration.ofMillis(300));
        s2.close();
        List<Delivery> bySecond = List.copyOf(second);
        assertThat(countsById(bySecond).keySet()).containsExactlyInAnyOrderElementsOf(leftIds);
        assertThat(duplicates(bySecond)).isEmpty();
        assertThat(bySecond).as("first deliveries not at attempt 1").filteredOn(d -> d.attempt() != 1).isEmpty();
        assertThat(byFirst.size() + bySecond.size()).isEqualTo(ids.size());
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(operator.size()).isZero();
            assertThat(operator.claims()).isEmpty();
        });
    }

    // ---- 4. a claim of a batch whose reply is lost ----

    @Test
    void aBatchedClaimWhoseReplyIsLostIsAdoptedOrGivenBackAtAttemptOne() throws Exception {
        String name = newName("lost-reply");
        ZkRecipes operatorZk = client();
        TaskQueue<String> operator = queue(operatorZk, name);
        List<String> ids = putAll(operator, "l-", 400, 400);
        ProxiedClient consumerClient = closing(zk.proxiedClient(SESSION));

        List<Delivery> deliveries = Collections.synchronizedList(new ArrayList<>());
        AtomicReference<LostReply> lost = new AtomicReference<>();
        Subscription s = closing(queue(consumerClient.zk(), name, "lossy").consume(task -> {
            deliveries.add(new Delivery(task.id(), task.payload(), task.attempt(), "lossy"));
            // the handler acks itself (ackInBackground then sends nothing), so that once no claim is
            // left (nothing claimed ahead) the next multi this client sends is a batch of claims
            task.ack();
            if (deliveries.size() >= 100 && lost.get() == null && claimCount(operatorZk, name) == 0) {
                lost.set(consumerClient.proxy().loseNextReply(Opcodes.MULTI));
            }
        }, new ConsumeOptions(1, Duration.ofSeconds(30))));

        await("the fault armed").atMost(WAIT).until(() -> lost.get() != null);
        lost.get().await(WAIT);
        await("every task handled").atMost(WAIT).until(() -> countsById(List.copyOf(deliveries)).keySet().containsAll(ids));
        pause(Duration.ofMillis(300));
        s.close();
        List<Delivery> all = List.copyOf(deliveries);
        assertThat(duplicates(all)).as("tasks delivered more than once").isEmpty();
        assertThat(all).as("deliveries not at attempt 1 (a lost claim reply counted as a delivery)")
                .filteredOn(d -> d.attempt() != 1).isEmpty();
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(operator.size()).isZero();
            assertThat(operator.claims()).isEmpty();
        });
    }

    // ---- 5. claims in doubt are given back at the count the task had ----

    @Test
    void aTaskReleasedTwiceThenClaimedInDoubtAndGivenBackIsNextDeliveredAtAttemptThree() throws Exception {
        String name = newName("third");
        ZkRecipes operatorZk = client();
        TaskQueue<String> operator = queue(operatorZk, name);
        String id = operator.put("x");

        // delivered twice to a handler that throws: released twice
        List<Integer> attempts = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch second = new CountDownLatch(1);
        CountDownLatch proceed = new CountDownLatch(1);
        openAfter.add(proceed);
        Subscription thrower = closing(queue(client(), name).consume(task -> {
            attempts.add(task.attempt());
            if (task.attempt() >= 2) {
                second.countDown();
                proceed.await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            }
            throw new IllegalStateException("handler fails on attempt " + task.attempt());
        }, new ConsumeOptions(1, Duration.ofSeconds(30))));
        assertThat(second.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        CompletableFuture<Void> closed = CompletableFuture.runAsync(thrower::close);
        await().atMost(WAIT).until(() -> !thrower.isActive());
        proceed.countDown(); // throws now: released, and the closed subscription takes nothing more
        closed.get(10, TimeUnit.SECONDS);
        assertThat(attempts).containsExactly(1, 2);
        await("released twice").atMost(WAIT).untilAsserted(() -> assertThat(operator.peek(10))
                .singleElement().satisfies(t -> {
                    assertThat(t.deliveries()).isEqualTo(2);
                    assertThat(t.claimed()).isFalse();
                }));

        // a claim whose request outlives the wait: in doubt, it lands later
        Faulty c = faulty(Duration.ofMillis(1500));
        TaskQueue<String> q = queue(c.zk(), name, "doubter");
        c.proxy().stallRequestsFrom(Opcodes.MULTI);
        try {
            assertThatThrownBy(() -> q.poll(Duration.ofSeconds(5))).as("poll whose claim is held past its wait")
                    .isInstanceOf(RuntimeException.class);
            assertThat(c.proxy().awaitStalledRequest(Duration.ZERO)).as("the claim was held").isTrue();
        } finally {
            c.proxy().releaseRequests();
        }
        await("the claim in doubt landed").atMost(WAIT).untilAsserted(() -> {
            assertThat(claimsBy(operator, "doubter")).containsExactly(id);
            assertThat(operator.peek(10)).singleElement().satisfies(t -> assertThat(t.deliveries()).isEqualTo(3));
        });

        // the same handle settles it (gives it back, not counted) and claims it again
        Task<String> task = q.poll(WAIT).orElseThrow();
        assertThat(task.id()).isEqualTo(id);
        assertThat(task.payload()).isEqualTo("x");
        assertThat(task.attempt()).as("two real deliveries and one claim given back undelivered").isEqualTo(3);
        task.ack();
        assertThat(operator.size()).isZero();
        assertThat(operator.claims()).isEmpty();
    }

    @Test
    void aBatchOfClaimsInDoubtIsGivenBackUncountedAndEveryTaskHandledOnceAtAttemptOne() throws Exception {
        String name = newName("batch-doubt");
        ZkRecipes operatorZk = client();
        TaskQueue<String> operator = queue(operatorZk, name);
        List<String> ids = putAll(operator, "d-", 300, 300);
        Faulty c = faulty(Duration.ofMillis(1500));

        List<Delivery> deliveries = Collections.synchronizedList(new ArrayList<>());
        AtomicBoolean armed = new AtomicBoolean();
        Subscription s = closing(queue(c.zk(), name, "stalled").consume(task -> {
            deliveries.add(new Delivery(task.id(), task.payload(), task.attempt(), "stalled"));
            task.ack(); // see aBatchedClaimWhoseReplyIsLostIsAdoptedOrGivenBackAtAttemptOne
            if (deliveries.size() >= 100 && !armed.get() && claimCount(operatorZk, name) == 0) {
                armed.set(true);
                // the next batch of claims is held past its wait (1.5 s), then goes through
                c.proxy().stallRequestsFrom(Opcodes.MULTI);
                CompletableFuture.delayedExecutor(3, TimeUnit.SECONDS).execute(() -> c.proxy().releaseRequests());
            }
        }, new ConsumeOptions(1, Duration.ofSeconds(30))));

        await("the stall armed").atMost(WAIT).until(armed::get);
        assertThat(c.proxy().awaitStalledRequest(Duration.ofSeconds(5))).as("a claim was held").isTrue();
        await("every task handled").atMost(WAIT).until(() -> countsById(List.copyOf(deliveries)).keySet().containsAll(ids));
        pause(Duration.ofMillis(300));
        s.close();
        List<Delivery> all = List.copyOf(deliveries);
        assertThat(duplicates(all)).as("tasks delivered more than once").isEmpty();
        assertThat(all).as("deliveries not at attempt 1 (a claim in doubt counted as a delivery)")
                .filteredOn(d -> d.attempt() != 1)
                .isEmpty();
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(operator.size()).isZero();
            assertThat(operator.claims()).isEmpty();
        });
    }

    // ---- 6. poll() and consume() on one handle ----

    @Test
    void pollersAndASubscriptionOnOneHandleLoseNothingAndLeaveNoClaim() throws Exception {
        String name = newName("mixed");
        TaskQueue<String> operator = queue(client(), name);
        TaskQueue<String> q = queue(client(), name, "mixed");
        List<Delivery> deliveries = Collections.synchronizedList(new ArrayList<>());
        List<String> errors = Collections.synchronizedList(new ArrayList<>());
        Subscription s = closing(q.consume(task -> deliveries.add(new Delivery(task.id(), task.payload(), task.attempt(), "sub")),
                new ConsumeOptions(2, Duration.ofSeconds(30))));
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService pollers = Executors.newFixedThreadPool(2);
        stopAfter.add(pollers);
        List<CompletableFuture<Void>> polling = new ArrayList<>();
        for (int p = 0; p < 2; p++) {
            polling.add(CompletableFuture.runAsync(() -> {
                while (!stop.get()) {
                    try {
                        Optional<Task<String>> t = q.poll(Duration.ofMillis(200));
                        if (t.isPresent()) {
                            deliveries.add(new Delivery(t.get().id(), t.get().payload(), t.get().attempt(), "poll"));
                            t.get().ack();
                        }
                    } catch (InterruptedException e) {
                        return;
                    } catch (RuntimeException e) {
                        errors.add(e.toString());
                    }
                }
            }, pollers));
        }
        List<String> ids = putAll(operator, "x-", 1500, 500);
        await("600 handled").atMost(WAIT).until(() -> deliveries.size() >= 600);
        CompletableFuture.runAsync(s::close).get(10, TimeUnit.SECONDS); // the pollers go on
        await("every task handled").atMost(WAIT).until(() -> countsById(List.copyOf(deliveries)).keySet().containsAll(ids));
        pause(Duration.ofMillis(300));
        stop.set(true);
        CompletableFuture.allOf(polling.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);

        List<Delivery> all = List.copyOf(deliveries);
        System.out.println("QueuePrefetchIT mixed: " + all.stream().collect(Collectors.groupingBy(Delivery::by, Collectors.counting())));
        assertThat(errors).isEmpty();
        assertThat(countsById(all).keySet()).containsExactlyInAnyOrderElementsOf(ids);
        assertThat(duplicates(all)).as("tasks delivered more than once").isEmpty();
        assertThat(all).filteredOn(d -> d.attempt() != 1).isEmpty();
        assertThat(all).as("deliveries to pollers").anyMatch(d -> d.by().equals("poll"));
        await("no claim left").atMost(WAIT).untilAsserted(() -> {
            assertThat(operator.claims()).isEmpty();
            assertThat(operator.size()).isZero();
        });
    }

    // ---- 7. claimTimeout and a hung handler ----

    @Test
    void aHungHandlerHoldsNoTaskPastClaimTimeoutNotEvenTheOnesClaimedAhead() throws Exception {
        String name = newName("hung");
        TaskQueue<String> operator = queue(client(), name);
        List<String> ids = putAll(operator, "h-", 300, 300);

        CountDownLatch hang = new CountDownLatch(1);
        openAfter.add(hang);
        Set<String> returned = ConcurrentHashMap.newKeySet(); // tasks whose handler returned (acked)
        Set<String> seen = ConcurrentHashMap.newKeySet();
        AtomicReference<String> hungOn = new AtomicReference<>();
        AtomicReference<List<String>> aheadWhenHung = new AtomicReference<>();
        TaskQueue<String> a = TaskQueue.builder(client(), name, Serializers.utf8()).consumerId("hung")
                .claimTimeout(Duration.ofSeconds(1)).build();
        closing(a.consume(task -> {
            seen.add(task.id());
            if (hungOn.get() == null && seen.size() >= 50) {
                List<String> ahead = claimsBy(operator, "hung").stream().filter(id -> !seen.contains(id)).toList();
                if (!ahead.isEmpty() && hungOn.compareAndSet(null, task.id())) {
                    aheadWhenHung.set(ahead);
                    hang.await(40, TimeUnit.SECONDS); // hung (until the test ends)
                    return;
                }
            }
            returned.add(task.id());
        }, new ConsumeOptions(1, Duration.ofSeconds(30))));
        await("the handler hangs with tasks claimed ahead").atMost(WAIT).until(() -> hungOn.get() != null);

        Set<String> bySecond = ConcurrentHashMap.newKeySet();
        closing(queue(client(), name, "rescuer").consume(task -> bySecond.add(task.id()),
                new ConsumeOptions(2, Duration.ofSeconds(30))));
        Set<String> expected = new HashSet<>(ids);
        expected.removeAll(returned);
        try {
            await("every task not finished by the hung consumer handled by another (claimTimeout 1 s)")
                    .atMost(Duration.ofSeconds(5))
                    .until(() -> bySecond.containsAll(expected));
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            Set<String> missing = new HashSet<>(expected);
            missing.removeAll(bySecond);
            throw new AssertionError("the handler hung on " + hungOn.get() + " with " + aheadWhenHung.get().size()
                    + " tasks claimed ahead " + aheadWhenHung.get() + "; " + missing.size() + " tasks never reached the"
                    + " other consumer: " + new java.util.TreeSet<>(missing) + "; claims still held by the hung consumer: "
                    + claimsBy(operator, "hung"), e);
        }
    }
}
