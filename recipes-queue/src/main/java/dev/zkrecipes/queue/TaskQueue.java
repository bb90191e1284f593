package dev.zkrecipes.queue;

import static java.util.Objects.requireNonNull;

import dev.zkrecipes.core.LeadershipLostException;
import dev.zkrecipes.core.NotAuthorizedException;
import dev.zkrecipes.core.SerializationException;
import dev.zkrecipes.core.ZkRecipeException;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.core.internal.ClientRecipes;
import dev.zkrecipes.core.internal.Options;
import dev.zkrecipes.core.internal.RecipeMetrics;
import dev.zkrecipes.core.internal.RecipePaths;
import dev.zkrecipes.queue.internal.Capacity;
import dev.zkrecipes.queue.internal.QueueEngine;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An at-least-once work queue: producers {@link #put} tasks, consumers on any number of machines
 * {@link #poll} or {@link #consume} them, and a consumer that dies loses nothing.
 *
 * <pre>{@code
 * TaskQueue<String> q = TaskQueue.builder(zk, "thumbnails", Serializers.utf8()).build();
 * q.put("img-1");
 * try (Subscription s = q.consume(task -> render(task.payload()), ConsumeOptions.concurrency(4))) { ... }
 * }</pre>
 *
 * <p><b>Delivery.</b> A consumer claims a task with an ephemeral claim node owned by its session,
 * in the same transaction that counts the delivery. {@link Task#ack()} deletes task and claim in one
 * transaction: an acknowledged task never comes back. If the consumer's session dies, its claims
 * vanish and the tasks are delivered again ({@link Task#attempt()} one higher). A task delivered
 * {@code maxAttempts} times without an ack goes to the dead letters ({@link #deadLetters(int)}).
 *
 * <p><b>Order.</b> Tasks sit in buckets of bounded size (default 1000), in the order ZooKeeper gave
 * their sequence numbers within a bucket, buckets in creation order. A consumer claims the oldest
 * task it can; when another consumer beats it to a task it skips a few ahead, so with several
 * consumers delivery is FIFO only approximately (within a few tasks), and tasks finish in any order.
 * With one consumer, delivery is strictly FIFO, and a released task, if it was the oldest pending,
 * is the next one delivered. Tasks from one producer are delivered in the order it put them, except
 * across a bucket boundary that another producer's view of the tail lags (a late producer may still
 * write into the bucket before).
 *
 * <p><b>Scale.</b> No {@code getChildren} ever lists more than one bucket, so a backlog of millions
 * stays far below {@code jute.maxbuffer}; drained buckets are removed.
 *
 * <p><b>No herd.</b> Consumers that find nothing queue up as waiters; only the first watches for
 * new tasks, so a put into an idle queue wakes one consumer, not all of them.
 *
 * <p><b>Connection loss.</b> Calls retry under the retry policy, then throw
 * {@link dev.zkrecipes.core.ConnectionLossException}; a {@code put} whose outcome is unknown may have
 * been applied (at-least-once). Claims survive a disconnect the session survives.
 */
public final class TaskQueue<T> {

    private static final Logger LOG = LoggerFactory.getLogger(TaskQueue.class);

    private final String name;
    private final Serializer<T> serializer;
    private final QueueEngine engine;
    private final Duration claimTimeout;
    private final ZkRecipes zk;
    private final Capacity capacity;
    private final RecipeMetrics metrics;

    private TaskQueue(Builder<T> b) {
        this.zk = b.zk;
        this.name = b.name;
        this.serializer = b.serializer;
        this.engine = new QueueEngine(b.zk, b.name, RecipePaths.queue(b.name), b.bucketSize, b.maxAttempts);
        if (b.consumerId != null) {
            engine.consumerId(b.consumerId);
        }
        this.claimTimeout = b.claimTimeout;
        this.capacity = b.capacity == null ? null : new Capacity(b.name, b.capacity, b.waitForRoom, engine::size);
        this.metrics = RecipeMetrics.of(b.zk);
    }

    /**
     * Starts building a handle on queue {@code name}; every process using the queue must use the
     * same serializer, bucket size and maxAttempts.
     *
     * @throws IllegalArgumentException if {@code name} is not a valid recipe name
     */
    public static <T> Builder<T> builder(ZkRecipes zk, String name, Serializer<T> serializer) {
        return new Builder<>(zk, name, serializer);
    }

    /**
     * Puts one task.
     *
     * @return its id
     * @throws NullPointerException if {@code payload} is null
     * @throws SerializationException if the serializer fails (nothing is sent)
     * @throws dev.zkrecipes.core.PayloadTooLargeException if it is over the size limit (nothing is sent)
     * @throws QueueFullException if the queue has a {@link Builder#capacity capacity}, is full and no
     *         room came within the configured wait (nothing is sent)
     */
    public String put(T payload) {
        byte[] bytes = bytes(requireNonNull(payload, "payload"));
        admit(1);
        String id = engine.put(List.of(bytes)).get(0);
        metrics.queuePut(name, 1);
        return id;
    }

    private void admit(int tasks) {
        if (capacity != null) {
            capacity.admit(tasks);
        }
    }

    /**
     * Puts one task without waiting for ZooKeeper: the create is sent at once, and the future
     * completes with the task's id once it is durable (or exceptionally, e.g. with
     * {@link dev.zkrecipes.core.ConnectionLossException}). Many puts in flight share round trips:
     * this is how a producer reaches the ensemble's write throughput. Puts from one thread are
     * applied in the order they were made, with one exception: a put that had to be redone (its
     * bucket filled up or was removed meanwhile, or the connection failed) lands after the puts sent
     * after it. Use {@link #putAll} when a group of tasks must keep its order. After a connection
     * loss a redone put may also have landed the first time (at-least-once, like {@link #put}).
     *
     * @throws SerializationException if the serializer fails (nothing is sent)
     * @throws dev.zkrecipes.core.PayloadTooLargeException if it is over the size limit (nothing is sent)
     * @throws QueueFullException if the queue has a {@link Builder#capacity capacity}, is full and no
     *         room came within the configured wait (nothing is sent; this call may wait for room)
     */
    public CompletableFuture<String> putAsync(T payload) {
        byte[] bytes = bytes(requireNonNull(payload, "payload"));
        admit(1);
        return engine.putAsync(bytes).whenComplete((id, failure) -> {
            if (failure == null) {
                metrics.queuePut(name, 1);
            }
        });
    }

    /**
     * Puts every payload in one atomic transaction: all of them become visible together, or none.
     *
     * @return their ids, in order
     * @throws dev.zkrecipes.core.PayloadTooLargeException if the batch does not fit in one
     *         transaction (about 1 MiB in all); nothing is sent: split the batch
     * @throws QueueFullException if the queue has a {@link Builder#capacity capacity} and the whole
     *         batch did not fit within the configured wait (nothing is sent)
     */
    public List<String> putAll(List<T> payloads) {
        requireNonNull(payloads, "payloads");
        if (payloads.isEmpty()) {
            return List.of();
        }
        List<byte[]> all = new ArrayList<>(payloads.size());
        for (int i = 0; i < payloads.size(); i++) {
            all.add(bytes(requireNonNull(payloads.get(i), "payloads[" + i + "]")));
        }
        admit(all.size());
        List<String> ids = engine.put(all);
        metrics.queuePut(name, ids.size());
        return ids;
    }

    /**
     * Claims the oldest task available, waiting up to {@code timeout} for one. Bounded whatever the
     * network does: it returns or throws within {@code timeout} plus half a second (one last
     * request's grace) or the client's connection timeout, whichever is less. A claim whose reply
     * comes too late is given back in the background.
     *
     * @return the claimed task, or empty on timeout
     * @throws IllegalArgumentException if {@code timeout} is negative
     * @throws dev.zkrecipes.core.ConnectionLossException if ZooKeeper did not answer within that bound
     * @throws InterruptedException if interrupted while waiting
     * @throws SerializationException if the task's bytes do not deserialize (the task is released)
     */
    public Optional<Task<T>> poll(Duration timeout) throws InterruptedException {
        Options.nonNegative(timeout, "timeout");
        zk.checkStarted();
        QueueEngine.Claimed claimed = engine.claim(timeout.toNanos());
        if (claimed == null) {
            return Optional.empty();
        }
        return Optional.of(toTask(claimed));
    }

    private Task<T> toTask(QueueEngine.Claimed claimed) {
        T payload;
        try {
            payload = serializer.deserialize(claimed.payload());
        } catch (Exception e) {
            engine.release(claimed);
            throw new SerializationException("task " + claimed.id() + " of queue '" + name
                    + "' does not deserialize with this queue's serializer; it was released", e);
        }
        metrics.queueDelivered(name, claimed.version(), System.currentTimeMillis() - claimed.createdMillis());
        return new ClaimedTask(claimed, payload);
    }

    /**
     * Runs {@code handler} on tasks as they come, on {@code options.concurrency()} threads:
     * returning acknowledges the task (the acknowledgement is sent without waiting for it, so the
     * thread takes its next task at once; if it fails, the task is delivered again), throwing
     * releases it.
     *
     * @return the running subscription; close it to stop
     * @throws dev.zkrecipes.core.NotAuthorizedException if the ensemble refuses this client the
     *         queue's nodes (checked once before the workers start; a refusal later stops the
     *         subscription, see {@link Subscription#failure()})
     */
    public Subscription consume(TaskHandler<T> handler, ConsumeOptions options) {
        requireNonNull(handler, "handler");
        requireNonNull(options, "options");
        zk.checkStarted();
        // one read first: a consumer the ensemble refuses hears it here, not in a log line later
        try {
            engine.size();
        } catch (NotAuthorizedException refused) {
            throw refused;
        } catch (ZkRecipeException unreachable) {
            // the workers wait for the ensemble, as they would after a later connection loss
        }
        AtomicBoolean active = new AtomicBoolean(true);
        AtomicReference<RuntimeException> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < options.concurrency(); i++) {
            Thread t = new Thread(() -> consumeLoop(handler, options, active, failure), "zkr-queue-" + name + "-" + i);
            t.setDaemon(true);
            threads.add(t);
        }
        threads.forEach(Thread::start);
        Subscription subscription = new Subscription() {
            @Override
            public boolean isActive() {
                return active.get();
            }

            @Override
            public Optional<RuntimeException> failure() {
                return Optional.ofNullable(failure.get());
            }

            @Override
            public void close() {
                if (!active.getAndSet(false)) {
                    return;
                }
                // Wake the threads that wait for a task, without interrupting anyone: an interrupt in
                // the middle of a claim could leave a claim that no thread holds. Threads running a
                // handler finish it (acknowledged as usual); all of them get 30 s in all.
                engine.wakeIdle();
                threads.forEach(LockSupport::unpark);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(CLOSE_WAIT_SECONDS);
                for (Thread t : threads) {
                    long left = deadline - System.nanoTime();
                    try {
                        if (left > 0) {
                            TimeUnit.NANOSECONDS.timedJoin(t, left);
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                    if (t.isAlive()) {
                        LOG.warn("queue '{}': {} is still running a handler {} s after close(); it finishes on its own",
                                name, t.getName(), CLOSE_WAIT_SECONDS);
                    }
                }
                // claimed ahead and left by threads that did not finish in time: back to the queue
                engine.releaseReady();
                ClientRecipes.closed(zk, this);
            }

            @Override
            public String toString() {
                return "Subscription[queue " + name + "]";
            }
        };
        ClientRecipes.opened(zk, subscription);
        return subscription;
    }

    private void consumeLoop(TaskHandler<T> handler, ConsumeOptions options, AtomicBoolean active,
            AtomicReference<RuntimeException> failure) {
        int failuresInARow = 0;
        HandlerPace pace = new HandlerPace();
        while (active.get()) {
            Task<T> task;
            try {
                task = take(options.pollTimeout(), active, pace.batch());
                failuresInARow = 0;
            } catch (InterruptedException e) {
                // not ours to end the loop: close() stops it through 'active'
                continue;
            } catch (NotAuthorizedException refused) {
                // not something time mends: stop the subscription and say why (failure())
                if (failure.compareAndSet(null, refused)) {
                    LOG.error("queue '{}': the ensemble refused this consumer ({}); the subscription stops", name,
                            refused.getMessage());
                }
                active.set(false);
                engine.wakeIdle();
                break;
            } catch (Throwable e) {
                // a worker never dies: report, back off, try again (a queue node deleted, junk found...)
                failuresInARow++;
                LOG.warn("queue '{}': could not take a task ({}); trying again in {} ms", name, e.toString(),
                        backOffMillis(failuresInARow));
                backOff(failuresInARow, active);
                continue;
            }
            if (task != null) {
                try {
                    handle(task, handler, pace, active);
                } catch (Throwable e) {
                    // a worker never dies: the task is delivered again once its claim goes
                    LOG.error("queue '{}': finishing task {} failed: {}", name, task.id(), e.toString(), e);
                }
            }
        }
        // tasks claimed ahead for this subscription are few and fast (see HandlerPace): finish them
        // rather than give them back
        QueueEngine.Claimed left;
        while ((left = engine.takeReady()) != null) {
            Task<T> task;
            try {
                task = toTask(left);
            } catch (RuntimeException e) {
                continue;
            }
            handle(task, handler, pace, active);
        }
    }

    private void handle(Task<T> task, TaskHandler<T> handler, HandlerPace pace, AtomicBoolean active) {
        ScheduledFuture<?> giveBack = claimTimeout == null ? null
                : timer().schedule(() -> giveBackOverdue(task), claimTimeout.toMillis(), TimeUnit.MILLISECONDS);
        long started = System.nanoTime();
        try {
            handler.handle(task);
        } catch (Throwable e) {
            // Errors too (an assertion, a stack overflow): the task goes back, the worker goes on
            LOG.info("queue '{}': handler failed on task {} (attempt {}); releasing it: {}", name, task.id(),
                    task.attempt(), e.toString());
            // unless the handler acknowledged or released it before it failed
            ((ClaimedTask) task).releaseUnlessFinished();
            // a task that fails at once must not burn all its attempts in milliseconds
            backOff(task.attempt(), active);
            return;
        } finally {
            pace.handled(System.nanoTime() - started);
            if (giveBack != null) {
                giveBack.cancel(false);
            }
        }
        // acknowledge without waiting: the next poll's round trips overlap the ack's. An ack that
        // cannot be sent now is sent again in the background while the claim holds.
        ((ClaimedTask) task).ackInBackground();
    }

    /**
     * How many tasks a consumer thread claims at once: as many as its handler gets through in
     * about {@value #BATCH_BUDGET_MILLIS} ms, at most {@value #MAX_BATCH}. Fast handlers get
     * batches (two round trips for many tasks); a slow handler claims one task at a time, so no
     * task waits claimed behind it while other consumers idle.
     */
    private static final class HandlerPace {
        private double averageNanos = -1;

        int batch() {
            if (averageNanos < 0) {
                return 1;
            }
            double fits = TimeUnit.MILLISECONDS.toNanos(BATCH_BUDGET_MILLIS) / Math.max(1.0, averageNanos);
            return (int) Math.max(1, Math.min(MAX_BATCH, fits));
        }

        void handled(long nanos) {
            averageNanos = averageNanos < 0 ? nanos : 0.8 * averageNanos + 0.2 * nanos;
        }
    }

    private static final long BATCH_BUDGET_MILLIS = 20;
    private static final int MAX_BATCH = 16;

    /** A handler ran past claimTimeout: its task goes back to the queue, for another consumer. */
    private void giveBackOverdue(Task<T> task) {
        LOG.warn("queue '{}': the handler of task {} has not returned after {}; the task is given back and will be"
                + " delivered again (the handler's result is then not acknowledged)", name, task.id(), claimTimeout);
        try {
            task.release();
        } catch (RuntimeException e) {
            LOG.warn("queue '{}': could not give back task {}: {}", name, task.id(), e.toString());
        }
    }

    private static volatile ScheduledExecutorService timer;

    private static ScheduledExecutorService timer() {
        if (timer == null) {
            synchronized (TaskQueue.class) {
                if (timer == null) {
                    ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, r -> {
                        Thread th = new Thread(r, "zkr-queue-claim-timeout");
                        th.setDaemon(true);
                        return th;
                    });
                    t.setRemoveOnCancelPolicy(true);
                    timer = t;
                }
            }
        }
        return timer;
    }

    private static final long CLOSE_WAIT_SECONDS = 30;
    private static final long MAX_BACK_OFF_MILLIS = 5_000;

    private static long backOffMillis(int failures) {
        return Math.min(MAX_BACK_OFF_MILLIS, 100L << Math.min(failures - 1, 6));
    }

    /** Waits a little after a failure; close() cuts it short (unpark, no interrupt). */
    private static void backOff(int failures, AtomicBoolean active) {
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backOffMillis(Math.max(1, failures)));
        while (active.get() && System.nanoTime() - until < 0) {
            LockSupport.parkNanos(until - System.nanoTime());
        }
    }

    /** poll() for a consumer thread: gives up at once when the subscription closes. */
    private Task<T> take(Duration timeout, AtomicBoolean active, int batch) throws InterruptedException {
        zk.checkStarted();
        QueueEngine.Claimed claimed = engine.claim(timeout.toNanos(), () -> !active.get(), batch);
        if (claimed == null) {
            return null;
        }
        return toTask(claimed);
    }

    private void safely(Runnable finish) {
        try {
            finish.run();
        } catch (LeadershipLostException lost) {
            LOG.info("queue '{}': {}", name, lost.getMessage());
        } catch (ZkRecipeException e) {
            LOG.warn("queue '{}': could not finish a task: {}", name, e.getMessage());
        }
    }

    /**
     * Tasks not yet acknowledged, those being handled included. One small read per bucket.
     */
    public long size() {
        zk.checkStarted();
        return engine.size();
    }

    /**
     * The tasks being handled now, in id order: which consumer holds each and since when. For
     * operators (a forgotten ack, a hung handler). Reads only.
     *
     * @throws dev.zkrecipes.core.ConnectionLossException if the ensemble cannot be reached
     */
    public List<ClaimInfo> claims() {
        zk.checkStarted();
        return engine.claims();
    }

    /**
     * Up to {@code limit} waiting tasks in delivery order, without claiming any (claimed ones are
     * shown, marked). Reads only; a payload that does not deserialize is left out.
     *
     * @throws IllegalArgumentException if {@code limit} is negative
     * @throws dev.zkrecipes.core.ConnectionLossException if the ensemble cannot be reached within the retry policy
     */
    public List<QueuedTask<T>> peek(int limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("limit must not be negative, got " + limit);
        }
        zk.checkStarted();
        List<QueuedTask<T>> result = new ArrayList<>();
        for (QueueEngine.Pending p : engine.peek(limit)) {
            try {
                result.add(new QueuedTask<>(p.id(), serializer.deserialize(p.payload()), p.deliveries(), p.claimed()));
            } catch (Exception e) {
                LOG.warn("queue '{}': task {} does not deserialize with this queue's serializer; left out of peek", name, p.id());
            }
        }
        return result;
    }

    /**
     * Deletes every waiting task that no consumer holds; claimed tasks finish as usual. Each task is
     * deleted in its own transaction, so a purge cut short (connection lost past the retry policy:
     * {@link dev.zkrecipes.core.ConnectionLossException}) leaves the tasks it did not reach.
     *
     * @return how many tasks were deleted; a delete whose reply was lost and whose retry found the
     *         task gone is counted as ours (an unclaimed task acknowledged in that same moment would
     *         be miscounted)
     */
    public int purge() {
        zk.checkStarted();
        return engine.purge();
    }

    /**
     * Puts dead letter {@code id} back into the queue as a new task (attempts start again) and
     * deletes the letter, in one transaction: both happen or neither.
     *
     * <p>Connection loss: past the retry policy, {@link dev.zkrecipes.core.ConnectionLossException}
     * (outcome unknown). Also when the reply was lost and Curator's retry found the letter gone: the
     * first request may have requeued it, so this says "unknown" rather than "no such letter"; look
     * at {@link #peek} before requeueing again.
     *
     * @return the new task's id, or empty if there is no such dead letter
     * @throws NullPointerException if {@code id} is null
     */
    public Optional<String> requeueDeadLetter(String id) {
        requireNonNull(id, "id");
        zk.checkStarted();
        return Optional.ofNullable(engine.requeueDeadLetter(id));
    }

    /**
     * Deletes queue {@code name} with everything in it: tasks, claims, dead letters. Consumers that
     * hold claims lose them (their acks fail). For operators.
     *
     * <p>Connection loss: Curator keeps deleting in the background ({@code guaranteed}); past the
     * retry policy this throws {@link dev.zkrecipes.core.ConnectionLossException}. So does a retry
     * after a lost reply that finds nothing (this call may have deleted it: outcome unknown, but
     * the queue is gone either way); false means it did not exist.
     *
     * @return true if it existed
     * @throws IllegalArgumentException if {@code name} is not a valid recipe name
     */
    public static boolean deleteQueue(ZkRecipes zk, String name) {
        requireNonNull(zk, "zk");
        zk.checkStarted();
        return new QueueEngine(zk, name, RecipePaths.queue(name), 1000, 1).deleteQueue();
    }

    /** Up to {@code limit} dead letters, oldest first. */
    public List<DeadLetter> deadLetters(int limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("limit must not be negative, got " + limit);
        }
        zk.checkStarted();
        return engine.deadLetters(limit);
    }

    /** Deletes dead letter {@code id}; true if it was there. */
    public boolean deleteDeadLetter(String id) {
        requireNonNull(id, "id");
        return engine.deleteDeadLetter(id);
    }

    /** The largest number of tasks in one bucket now: what keeps every read small. For operators and tests. */
    public int largestBucket() {
        return engine.largestBucket();
    }

    /** The queue's name. */
    public String name() {
        return name;
    }

    private byte[] bytes(T payload) {
        try {
            byte[] b = serializer.serialize(payload);
            if (b == null) {
                throw new IllegalStateException("the serializer returned null");
            }
            return b;
        } catch (Exception e) {
            throw new SerializationException("could not serialize a task for queue '" + name + "': " + e.getMessage(), e);
        }
    }

    private final class ClaimedTask implements Task<T> {
        private final QueueEngine.Claimed claimed;
        private final T payload;
        /** null while claimed; {@value #ACKING} while ack() waits for ZooKeeper; then "acked" or "released". */
        private final AtomicReference<String> finished = new AtomicReference<>();
        private static final String ACKING = "being acknowledged";
        private final long claimedAtNanos = System.nanoTime();

        ClaimedTask(QueueEngine.Claimed claimed, T payload) {
            this.claimed = claimed;
            this.payload = payload;
        }

        @Override
        public T payload() {
            return payload;
        }

        @Override
        public String id() {
            return claimed.id();
        }

        @Override
        public int attempt() {
            return claimed.version();
        }

        @Override
        public Instant enqueuedAt() {
            return Instant.ofEpochMilli(claimed.createdMillis());
        }

        @Override
        public void ack() {
            if (!finished.compareAndSet(null, ACKING)) {
                refuseIfNot("acked", "acknowledge");
                return;
            }
            try {
                // if this throws with the outcome unknown, the ack is sent again in the background
                engine.ack(claimed);
            } catch (RuntimeException e) {
                // not known to be acknowledged: an ack() called again asks ZooKeeper again, it never
                // reports success for an ack that may not have landed
                finished.compareAndSet(ACKING, null);
                throw e;
            }
            finished.set("acked");
            metrics.queueAck(name, System.nanoTime() - claimedAtNanos);
        }

        /** Gives the task back after its handler failed, unless the handler finished it itself. */
        void releaseUnlessFinished() {
            if (finished.compareAndSet(null, "released")) {
                safely(() -> engine.release(claimed));
                metrics.queueRelease(name);
            }
        }

        void ackInBackground() {
            if (finished.compareAndSet(null, "acked")) {  // false when given back after claimTimeout
                engine.ackAsync(claimed, failure -> {
                    if (failure == null) {
                        metrics.queueAck(name, System.nanoTime() - claimedAtNanos);
                    } else if (failure instanceof LeadershipLostException) {
                        LOG.info("queue '{}': {}", name, failure.getMessage());
                    } else {
                        LOG.info("queue '{}': acknowledging task {} could not be sent now ({}); it is sent again in the"
                                + " background while the claim holds, else the task is delivered again", name,
                                claimed.id(), failure.getMessage());
                    }
                });
            }
        }

        @Override
        public void release() {
            if (!finished.compareAndSet(null, "released")) {
                refuseIfNot("released", "release");
                return;
            }
            engine.release(claimed);
            metrics.queueRelease(name);
        }

        private void refuseIfNot(String same, String what) {
            String was = finished.get();
            if (ACKING.equals(was)) {
                throw new IllegalStateException("task " + claimed.id() + " of queue '" + name + "' is being acknowledged"
                        + " by another thread; that call tells whether it was");
            }
            if (!same.equals(was)) {
                throw new IllegalStateException("task " + claimed.id() + " of queue '" + name + "' was " + was
                        + " already; it cannot be " + (what.equals("acknowledge") ? "acknowledged" : "released") + " now");
            }
        }

        @Override
        public String toString() {
            return "Task[" + claimed.id() + ", attempt " + claimed.version() + "]";
        }
    }

    /** Options of a {@link TaskQueue}; each may be set once. */
    public static final class Builder<T> {
        private final ZkRecipes zk;
        private final String name;
        private final Serializer<T> serializer;
        private int bucketSize = 1000;
        private int maxAttempts = 5;
        private boolean bucketSizeSet;
        private boolean maxAttemptsSet;
        private String consumerId;
        private Duration claimTimeout;
        private Integer capacity;
        private Duration waitForRoom;

        private Builder(ZkRecipes zk, String name, Serializer<T> serializer) {
            this.zk = requireNonNull(zk, "zk");
            this.name = RecipePaths.validateName(name);
            for (String segment : name.split("/")) {
                if (QueueEngine.isReservedName(segment) && !segment.equals(name)) {
                    throw new IllegalArgumentException("queue name '" + name + "' has a segment '" + segment + "', which"
                            + " queues use for their own nodes (it would collide with another queue's layout); pick"
                            + " another name");
                }
            }
            this.serializer = requireNonNull(serializer, "serializer");
        }

        /**
         * Tasks per bucket before producers move to the next (default 1000; 100 to 10,000). Every
         * consumer read lists one bucket, so this bounds what any read returns; the lower bound keeps
         * the list of buckets itself small (10,000 buckets, about 150 KB, for a million tasks).
         */
        public Builder<T> bucketSize(int bucketSize) {
            Options.once(bucketSizeSet ? this : null, "bucketSize");
            if (bucketSize < 100 || bucketSize > 10_000) {
                throw new IllegalArgumentException("bucketSize must be 100 to 10000, got " + bucketSize);
            }
            this.bucketSize = bucketSize;
            bucketSizeSet = true;
            return this;
        }

        /**
         * How this process's claims name their consumer in {@link TaskQueue#claims()} (default
         * {@code host:pid}).
         *
         * @throws IllegalArgumentException if empty, over 256 characters or with a line break
         * @throws IllegalStateException if set twice
         */
        public Builder<T> consumerId(String consumerId) {
            requireNonNull(consumerId, "consumerId");
            Options.once(this.consumerId, "consumerId");
            if (consumerId.isEmpty() || consumerId.contains("\n") || consumerId.length() > 256) {
                throw new IllegalArgumentException("consumerId must be 1 to 256 characters without line breaks, got '"
                        + consumerId + "'");
            }
            this.consumerId = consumerId;
            return this;
        }

        /**
         * For {@link TaskQueue#consume}: a handler that has not returned after {@code claimTimeout}
         * has its task given back (logged), so a hung handler does not hold a task for the life of
         * the session. The handler is not stopped; what it returns later is not acknowledged.
         * Default: none.
         *
         * @throws IllegalArgumentException if {@code claimTimeout} is zero or negative
         * @throws IllegalStateException if set twice
         */
        public Builder<T> claimTimeout(Duration claimTimeout) {
            requireNonNull(claimTimeout, "claimTimeout");
            Options.once(this.claimTimeout, "claimTimeout");
            this.claimTimeout = Options.positive(claimTimeout, "claimTimeout");
            return this;
        }

        /** Deliveries before a task goes to the dead letters (default 5, at least 1). */
        public Builder<T> maxAttempts(int maxAttempts) {
            Options.once(maxAttemptsSet ? this : null, "maxAttempts");
            if (maxAttempts < 1) {
                throw new IllegalArgumentException("maxAttempts must be at least 1, got " + maxAttempts);
            }
            this.maxAttempts = maxAttempts;
            maxAttemptsSet = true;
            return this;
        }

        /**
         * Builds the handle, creating the queue's nodes if this is the first use.
         *
         * @throws IllegalStateException if the client is not started
         */
        /**
         * Bounds the tasks waiting in the queue (claimed ones included): a put that finds it full
         * waits up to {@code waitForRoom} for consumers to make room (zero: not at all), then fails
         * with {@link QueueFullException}, sending nothing. Off by default.
         *
         * <p>Counting the queue takes two round trips, so producers count now and then rather than
         * before every put (every put once close to the bound). It is a soft bound: producers
         * racing for the last room may pass it by one put each. A put that waits for room polls the count with back-off
         * (10 ms doubling to 200 ms). Connection loss while counting fails the put with
         * {@link dev.zkrecipes.core.ConnectionLossException}, nothing sent.
         *
         * @throws IllegalArgumentException if {@code capacity} is not positive or {@code waitForRoom} is negative
         */
        public Builder<T> capacity(int capacity, Duration waitForRoom) {
            requireNonNull(waitForRoom, "waitForRoom");
            Options.once(this.capacity, "capacity");
            if (capacity < 1) {
                throw new IllegalArgumentException("capacity must be positive, got " + capacity);
            }
            this.waitForRoom = Options.nonNegative(waitForRoom, "waitForRoom");
            this.capacity = capacity;
            return this;
        }

        public TaskQueue<T> build() {
            zk.checkStarted();
            // nothing is created here: the first put makes the queue's nodes, reads create nothing
            return new TaskQueue<>(this);
        }
    }
}
