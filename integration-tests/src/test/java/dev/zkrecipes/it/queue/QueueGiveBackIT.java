package dev.zkrecipes.it.queue;

import static org.assertj.core.api.Assertions.assertThat;
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
import dev.zkrecipes.testing.LoopbackProxy.LostReply;
import dev.zkrecipes.testing.LoopbackProxy.Opcodes;
import dev.zkrecipes.testing.ProxiedClient;
import dev.zkrecipes.testing.ZkServers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.apache.curator.framework.state.ConnectionState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * "Give back" of tasks claimed ahead by a batch and never handed to a handler, on one real server:
 * <ul>
 *   <li>a task whose payload is over half the payload limit, delivered once before, is given back
 *       when its claim ahead goes stale (the give-back is one transaction: it must fit in a request);
 *   <li>a give-back stalled on one client does not hold back the 500 ms sweep of another client's
 *       queue in the same JVM;
 *   <li>a give-back whose reply is lost leaves the task to another consumer at attempt 1, and the
 *       settling of that doubt never touches the other consumer's claim;
 *   <li>racing consumers with lost replies and handlers that are now and then slow (so claims ahead
 *       are swept): nothing lost, no task in two handlers at once, every attempt equals the real
 *       deliveries so far + 1, no claim left.
 * </ul>
 * Every fault test checks its precondition (the task really was claimed ahead, the fault really
 * happened), so it cannot pass without exercising the give-back.
 */
class QueueGiveBackIT {

    @RegisterExtension
    static final EmbeddedZk zk = EmbeddedZk.server();

    private static final Duration SESSION = Duration.ofSeconds(6);
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final AtomicInteger NAMES = new AtomicInteger();

    private final List<AutoCloseable> closeAfter = new ArrayList<>();
    private final List<CountDownLatch> openAfter = new ArrayList<>();

    @AfterEach
    void cleanUp() {
        openAfter.forEach(l -> {
            while (l.getCount() > 0) {
                l.countDown();
            }
        });
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
        return "giveback/" + what + "-" + NAMES.incrementAndGet();
    }

    private <C extends AutoCloseable> C closing(C closeable) {
        closeAfter.add(closeable);
        return closeable;
    }

    private CountDownLatch latch() {
        CountDownLatch l = new CountDownLatch(1);
        openAfter.add(l);
        return l;
    }

    private ZkRecipes client() {
        return closing(Clients.connect(zk.connectString(), SESSION));
    }

    private ProxiedClient proxied(Duration session) {
        return closing(zk.proxiedClient(session));
    }

    private static TaskQueue<String> queue(ZkRecipes client, String name) {
        return TaskQueue.builder(client, name, Serializers.utf8()).build();
    }

    private static TaskQueue<String> queue(ZkRecipes client, String name, String consumerId) {
        return TaskQueue.builder(client, name, Serializers.utf8()).consumerId(consumerId).build();
    }

    private static ConsumeOptions oneThread() {
        return new ConsumeOptions(1, Duration.ofSeconds(30));
    }

    /** The ids of the tasks {@code consumer} holds a claim on now. */
    private static List<String> claimsBy(TaskQueue<?> anyHandle, String consumer) {
        return anyHandle.claims().stream()
                .filter(c -> c.consumer().filter(consumer::equals).isPresent())
                .map(ClaimInfo::taskId)
                .toList();
    }

    /** Task {@code id} as it sits in the queue now (payload left out of messages). */
    private static Optional<String> state(TaskQueue<String> q, String id) {
        return q.peek(1000).stream().filter(t -> t.id().equals(id))
                .map(t -> "deliveries=" + t.deliveries() + " claimed=" + t.claimed()).findFirst();
    }

    private static void pause(Duration d) {
        await().pollDelay(d).atMost(d.plusSeconds(5)).until(() -> true);
    }

    /** What a handler was handed. */
    private record Delivery(String id, int attempt, String by) {
    }

    // ---- 1. a large task given back ----

    /**
     * The give-back re-creates the task and sets its data once per earlier delivery, each op
     * carrying the whole payload, in one request: a payload over half the limit, delivered once
     * before, makes that request larger than ZooKeeper accepts, so it can never be given back.
     */
    @Test
    void aTaskOverHalfThePayloadLimitDeliveredOnceBeforeIsGivenBackWhenItsClaimAheadGoesStale() throws Exception {
        String name = newName("large");
        ZkRecipes operatorZk = client();
        TaskQueue<String> operator = queue(operatorZk, name);
        int big = operatorZk.maxPayloadBytes() * 6 / 10; // put and claim (one copy each) fit easily
        String s1 = operator.put("s1");
        String s2 = operator.put("s2");
        String b = operator.put("B".repeat(big));

        // one real delivery each, released: every task at delivery count 1, unclaimed
        TaskQueue<String> first = queue(client(), name, "first");
        List<Task<String>> held = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            held.add(first.poll(WAIT).orElseThrow());
        }
        assertThat(held).extracting(Task::id).containsExactly(s1, s2, b);
        held.forEach(Task::release);
        assertThat(operator.peek(10)).allSatisfy(t -> {
            assertThat(t.deliveries()).isEqualTo(1);
            assertThat(t.claimed()).isFalse();
        });

        // a consumer fast on s1 (so it claims in batches), then hung on s2 with b claimed ahead
        ZkRecipes hungZk = client();
        AtomicInteger suspended = new AtomicInteger();
        hungZk.curator().getConnectionStateListenable().addListener((c, state) -> {
            if (state == ConnectionState.SUSPENDED) {
                suspended.incrementAndGet();
            }
        });
        CountDownLatch hang = latch();
        AtomicReference<List<String>> aheadWhenHung = new AtomicReference<>();
        closing(queue(hungZk, name, "hung").consume(task -> {
            if (task.id().equals(s1)) {
                return;
            }
            if (aheadWhenHung.get() == null) {
                aheadWhenHung.set(claimsBy(operator, "hung"));
            }
            hang.await(40, TimeUnit.SECONDS);
        }, oneThread()));
        await("the handler hangs").atMost(WAIT).until(() -> aheadWhenHung.get() != null);
        assertThat(aheadWhenHung.get()).as("claims of the hung consumer (b claimed ahead: batching happened)")
                .contains(s2, b);

        try {
            await("the large task given back within a few seconds (claimed ahead: 500 ms at most)")
                    .atMost(Duration.ofSeconds(5))
                    .untilAsserted(() -> assertThat(state(operator, b)).hasValue("deliveries=1 claimed=false"));
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("task " + b + " (" + big + " bytes, delivered once before) was claimed ahead and"
                    + " never given back: it is now " + state(operator, b).orElse("gone") + ", claims of the hung"
                    + " consumer " + claimsBy(operator, "hung") + "; its client went SUSPENDED " + suspended.get()
                    + " times (each give-back of " + (2L * big) + " bytes in one request is refused by the server,"
                    + " which drops the connection)", e);
        }
        // another consumer gets it, at attempt 2 (one real delivery before)
        Task<String> rescued = queue(client(), name, "rescuer").poll(WAIT).orElseThrow();
        assertThat(rescued.id()).isEqualTo(b);
        assertThat(rescued.attempt()).isEqualTo(2);
        rescued.ack();
        assertThat(suspended.get()).as("connection losses of the client that gave the task back").isZero();
    }

    // ---- 2. one client's stalled give-back and another client's sweep ----

    @Test
    void aGiveBackStalledOnOneClientDoesNotHoldBackTheSweepOfAnotherClientsQueue() throws Exception {
        String nameA = newName("stalled");
        String nameB = newName("healthy");
        ZkRecipes operatorZk = client();
        TaskQueue<String> opA = queue(operatorZk, nameA);
        TaskQueue<String> opB = queue(operatorZk, nameB);
        List<String> idsA = opA.putAll(List.of("a0", "a1", "a2"));
        List<String> idsB = opB.putAll(List.of("b0", "b1", "b2"));

        // client A (15 s session: it notices a stalled connection after 10 s) hangs on a1 with a2
        // claimed ahead; from then on its proxy holds its next multi: the give-back of a2
        ProxiedClient a = proxied(Duration.ofSeconds(15));
        closing(() -> a.proxy().releaseRequests()); // before A's client closes
        CountDownLatch hangA = latch();
        AtomicReference<List<String>> aheadA = new AtomicReference<>();
        closing(queue(a.zk(), nameA, "a").consume(task -> {
            if (task.id().equals(idsA.get(0))) {
                return;
            }
            if (aheadA.get() == null) {
                a.proxy().stallRequestsFrom(Opcodes.MULTI);
                aheadA.set(claimsBy(opA, "a"));
            }
            hangA.await(40, TimeUnit.SECONDS);
        }, oneThread()));
        await("A hangs").atMost(WAIT).until(() -> aheadA.get() != null);
        assertThat(aheadA.get()).as("A's claims (a2 claimed ahead)").contains(idsA.get(1), idsA.get(2));
        assertThat(a.proxy().awaitStalledRequest(Duration.ofSeconds(5))).as("A's give-back of a2 is held").isTrue();

        // client B, healthy, on another queue: hangs on b1 with b2 claimed ahead
        CountDownLatch hangB = latch();
        AtomicReference<List<String>> aheadB = new AtomicReference<>();
        AtomicLong bHungAt = new AtomicLong();
        closing(queue(client(), nameB, "b").consume(task -> {
            if (task.id().equals(idsB.get(0))) {
                return;
            }
            if (aheadB.get() == null) {
                bHungAt.set(System.nanoTime());
                aheadB.set(claimsBy(opB, "b"));
            }
            hangB.await(40, TimeUnit.SECONDS);
        }, oneThread()));
        await("B hangs").atMost(WAIT).until(() -> aheadB.get() != null);
        assertThat(aheadB.get()).as("B's claims (b2 claimed ahead)").contains(idsB.get(1), idsB.get(2));

        try {
            await("b2 given back (claimed ahead: 500 ms at most)").atMost(Duration.ofSeconds(3))
                    .untilAsserted(() -> assertThat(state(opB, idsB.get(2))).hasValue("deliveries=0 claimed=false"));
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("B's task " + idsB.get(2) + ", claimed ahead by a healthy client, is still "
                    + state(opB, idsB.get(2)).orElse("gone") + " "
                    + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - bHungAt.get()) + " ms after B's handler hung:"
                    + " the one sweeper thread of the JVM is blocked in client A's held give-back (A's proxy still"
                    + " holds a request: " + a.proxy().awaitStalledRequest(Duration.ZERO) + ")", e);
        }
    }

    // ---- 3. a give-back whose reply is lost ----

    @Test
    void aGiveBackWhoseReplyIsLostLeavesTheTaskToAnotherConsumerAtAttemptOneAndItsClaimUntouched() throws Exception {
        String name = newName("lost");
        ZkRecipes operatorZk = client();
        TaskQueue<String> operator = queue(operatorZk, name);
        List<String> ids = operator.putAll(List.of("g0", "g1", "g2"));

        ProxiedClient a = proxied(SESSION);
        List<Delivery> deliveries = Collections.synchronizedList(new ArrayList<>());
        AtomicReference<LostReply> lost = new AtomicReference<>();
        AtomicReference<List<String>> aheadA = new AtomicReference<>();
        CountDownLatch hang = latch();
        closing(queue(a.zk(), name, "a").consume(task -> {
            deliveries.add(new Delivery(task.id(), task.attempt(), "a"));
            if (task.id().equals(ids.get(1)) && lost.get() == null) {
                // the multis sent so far (ack of g0, claims of g1 and g2) have been answered: the
                // next one is the give-back of g2, 500 ms from its claim
                lost.set(a.proxy().loseNextReply(Opcodes.MULTI));
                aheadA.set(claimsBy(operator, "a"));
                hang.await(40, TimeUnit.SECONDS);
            }
        }, oneThread()));
        await("A hangs on g1").atMost(WAIT).until(() -> aheadA.get() != null);
        assertThat(aheadA.get()).as("A's claims (g2 claimed ahead)").contains(ids.get(1), ids.get(2));
        lost.get().await(WAIT);
        await("g2 back in the queue, its claim gone, not counted").atMost(WAIT)
                .untilAsserted(() -> assertThat(state(operator, ids.get(2))).hasValue("deliveries=0 claimed=false"));

        // C takes g2 and holds it while A settles its doubt about the give-back
        ZkRecipes cZk = client();
        Task<String> held = queue(cZk, name, "c").poll(WAIT).orElseThrow();
        assertThat(held.id()).isEqualTo(ids.get(2));
        assertThat(held.attempt()).as("a task given back undelivered, first real delivery").isEqualTo(1);

        hang.countDown(); // A acks g1, then refills: settles its doubt first, then claims g3
        String g3 = operator.put("g3");
        await("A took g3 (so it has reconciled its doubts)").atMost(WAIT)
                .until(() -> deliveries.stream().anyMatch(d -> d.id().equals(g3)));
        pause(Duration.ofMillis(300));
        assertThat(claimsBy(operator, "c")).as("C's claim on g2, after A settled its doubt").containsExactly(ids.get(2));
        assertThat(state(operator, ids.get(2))).hasValue("deliveries=1 claimed=true");
        held.ack(); // throws if the claim was taken from C
        assertThat(List.copyOf(deliveries)).as("A's deliveries").extracting(Delivery::id)
                .containsExactly(ids.get(0), ids.get(1), g3);
        assertThat(List.copyOf(deliveries)).allMatch(d -> d.attempt() == 1);
        await("everything acknowledged, no claim left").atMost(WAIT).untilAsserted(() -> {
            assertThat(operator.size()).isZero();
            assertThat(operator.claims()).isEmpty();
        });
    }

    // ---- 4. a give-back that never reached the server, then the subscription closes ----

    @Test
    void aGiveBackCutOffBeforeTheServerThenASubscriptionClosedLeavesNoClaimWhileTheSessionLives() throws Exception {
        String name = newName("cut");
        ZkRecipes operatorZk = client();
        TaskQueue<String> operator = queue(operatorZk, name);
        List<String> ids = operator.putAll(List.of("k0", "k1", "k2"));

        ProxiedClient a = proxied(Duration.ofSeconds(10));
        closing(() -> a.proxy().releaseRequests());
        AtomicReference<List<String>> aheadA = new AtomicReference<>();
        CountDownLatch hang = latch();
        Subscription sub = closing(queue(a.zk(), name, "a").consume(task -> {
            if (task.id().equals(ids.get(0))) {
                return;
            }
            if (aheadA.get() == null) {
                // the next multi (the give-back of k2) is held, then its connection is cut: never applied
                a.proxy().stallRequestsFrom(Opcodes.MULTI);
                aheadA.set(claimsBy(operator, "a"));
            }
            hang.await(40, TimeUnit.SECONDS);
        }, oneThread()));
        await("A hangs on k1").atMost(WAIT).until(() -> aheadA.get() != null);
        assertThat(aheadA.get()).as("A's claims (k2 claimed ahead)").contains(ids.get(1), ids.get(2));
        assertThat(a.proxy().awaitStalledRequest(Duration.ofSeconds(5))).as("the give-back of k2 is held").isTrue();
        a.proxy().cut(); // the held give-back is discarded with its connection: outcome unknown to A
        pause(Duration.ofMillis(500));
        await("A reconnected on its session").atMost(WAIT)
                .until(() -> a.zk().curator().getZookeeperClient().isConnected());
        a.proxy().releaseRequests();
        // k2: the held give-back did not land; the doubt it left may already be settled (given back
        // again, uncounted) by A's settler, which does not wait for a refill
        assertThat(state(operator, ids.get(2))).as("k2 after the cut").hasValueSatisfying(state ->
                assertThat(state).isIn("deliveries=1 claimed=true", "deliveries=0 claimed=false"));

        // the subscription closes while the handler still runs; the handler then returns
        CompletableFuture<Void> closed = CompletableFuture.runAsync(sub::close);
        await().atMost(WAIT).until(() -> !sub.isActive());
        hang.countDown();
        closed.get(10, TimeUnit.SECONDS);

        assertThat(a.zk().curator().getZookeeperClient().isConnected()).isTrue();
        try {
            await("no claim of the closed subscription left, its session alive").atMost(Duration.ofSeconds(6))
                    .untilAsserted(() -> assertThat(claimsBy(operator, "a")).isEmpty());
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("after close(), the consumer still holds claims " + claimsBy(operator, "a")
                    + " (k2 = " + ids.get(2) + " is " + state(operator, ids.get(2)).orElse("gone") + "): its give-back"
                    + " was left in doubt and doubts are only settled by a later refill, which a closed subscription"
                    + " never makes; the task is held until the client's session ends", e);
        }
        Task<String> rest = queue(client(), name, "rescuer").poll(WAIT).orElseThrow();
        assertThat(rest.id()).isEqualTo(ids.get(2));
        assertThat(rest.attempt()).as("given back undelivered: first real delivery").isEqualTo(1);
        rest.ack();
    }

    // ---- 5. racing consumers, lost replies, sweeps ----

    @Test
    void racingConsumersWithLostRepliesAndSweptClaimsLoseNothingAndCountEveryDeliveryOnce() throws Exception {
        long seed = System.nanoTime();
        System.out.println("QueueGiveBackIT racing: seed " + seed);
        Random random = new Random(seed);
        String name = newName("race");
        ZkRecipes operatorZk = client();
        TaskQueue<String> operator = queue(operatorZk, name);

        List<ProxiedClient> lossy = List.of(proxied(SESSION), proxied(SESSION));
        List<ZkRecipes> clients = List.of(lossy.get(0).zk(), lossy.get(1).zk(), client());
        List<Delivery> deliveries = Collections.synchronizedList(new ArrayList<>());
        Map<String, String> inHandler = new ConcurrentHashMap<>();
        Map<String, AtomicInteger> handledSoFar = new ConcurrentHashMap<>();
        List<String> violations = Collections.synchronizedList(new ArrayList<>());
        Set<String> slow = ConcurrentHashMap.newKeySet();
        List<Subscription> subs = new ArrayList<>();
        for (int c = 0; c < clients.size(); c++) {
            String by = "racer-" + c;
            subs.add(closing(queue(clients.get(c), name, by).consume(task -> {
                String other = inHandler.putIfAbsent(task.id(), by);
                if (other != null) {
                    violations.add(task.id() + " handed to " + by + " while in the handler of " + other);
                }
                try {
                    int before = handledSoFar.computeIfAbsent(task.id(), k -> new AtomicInteger()).getAndIncrement();
                    deliveries.add(new Delivery(task.id(), task.attempt(), by));
                    if (task.attempt() != before + 1) {
                        violations.add(task.id() + " at attempt " + task.attempt() + " to " + by + " after " + before
                                + " real deliveries");
                    }
                    if (slow.contains(task.id())) {
                        // a deliberately slow handler: the real pause is the point, so that what this
                        // consumer claimed ahead waits past 500 ms and is swept meanwhile
                        await().pollDelay(Duration.ofMillis(700)).atMost(Duration.ofSeconds(5)).until(() -> true);
                    }
                } finally {
                    inHandler.remove(task.id(), by);
                }
            }, new ConsumeOptions(2, Duration.ofSeconds(30)))));
        }

        List<String> ids = new ArrayList<>();
        AtomicBoolean faulting = new AtomicBoolean(true);
        AtomicInteger faults = new AtomicInteger();
        CompletableFuture<Void> injector = CompletableFuture.runAsync(() -> {
            Random r = new Random(seed + 1);
            for (int i = 0; i < 14 && faulting.get(); i++) {
                pause(Duration.ofMillis(150 + r.nextInt(250)));
                lossy.get(r.nextInt(lossy.size())).proxy().loseNextReply(Opcodes.MULTI);
                faults.incrementAndGet();
            }
        });
        for (int round = 0; round < 6; round++) {
            List<String> batch = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                batch.add("r" + round + "-" + i);
            }
            List<String> put = operator.putAll(batch);
            for (String id : put) {
                if (random.nextInt(40) == 0) {
                    slow.add(id);
                }
            }
            ids.addAll(put);
            pause(Duration.ofMillis(300));
        }
        injector.get(20, TimeUnit.SECONDS);
        faulting.set(false);

        await("every task handled and acknowledged").atMost(Duration.ofSeconds(25)).until(
                () -> snapshot(deliveries).stream().map(Delivery::id).collect(Collectors.toSet()).containsAll(ids)
                        && operator.size() == 0);
        subs.forEach(s -> closeWithin(s, Duration.ofSeconds(10)));
        List<Delivery> all = snapshot(deliveries);
        Map<String, Long> dups = all.stream().collect(Collectors.groupingBy(Delivery::id, Collectors.counting()))
                .entrySet().stream().filter(e -> e.getValue() > 1)
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
        System.out.println("QueueGiveBackIT racing: " + all.size() + " deliveries of " + ids.size() + " tasks, "
                + faults.get() + " lost replies armed, " + slow.size() + " slow tasks, duplicates " + dups);
        assertThat(List.copyOf(violations)).as("invariant violations (seed " + seed + ")").isEmpty();
        assertThat(all.stream().map(Delivery::id).collect(Collectors.toSet())).containsExactlyInAnyOrderElementsOf(ids);
        await("no claim left, sessions alive").atMost(WAIT).untilAsserted(() -> {
            assertThat(operator.claims()).isEmpty();
            assertThat(operator.peek(10)).isEmpty();
        });
    }

    /** A copy of a synchronized list, taken under its lock (its handlers still add to it). */
    private static <T> List<T> snapshot(List<T> synchronizedList) {
        synchronized (synchronizedList) {
            return List.copyOf(synchronizedList);
        }
    }
}
