package dev.zkrecipes.queue.internal;

import dev.zkrecipes.core.ConnectionLossException;
import dev.zkrecipes.core.LeadershipLostException;
import dev.zkrecipes.core.NotAuthorizedException;
import dev.zkrecipes.core.VersionConflictException;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.core.internal.Background;
import dev.zkrecipes.core.internal.Deadline;
import dev.zkrecipes.core.internal.PayloadLimit;
import dev.zkrecipes.core.internal.RecipeMetrics;
import dev.zkrecipes.core.internal.Retries;
import dev.zkrecipes.core.internal.SentOnce;
import dev.zkrecipes.core.internal.SequentialNodes;
import dev.zkrecipes.core.internal.SerialExecutor;
import dev.zkrecipes.core.internal.Sessions;
import dev.zkrecipes.core.internal.ZkErrors;
import dev.zkrecipes.queue.ClaimInfo;
import dev.zkrecipes.queue.DeadLetter;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The queue's protocol on ZooKeeper (see {@link Layout}): put into the tail bucket, claim the
 * oldest unclaimed task with one transaction that bumps its data version (the delivery count) and
 * creates an ephemeral claim, acknowledge by deleting task and claim in one transaction.
 *
 * <p>No herd: consumers that find nothing to do queue up as ephemeral-sequential waiters; only the
 * first watches the tail bucket, each other one watches the waiter ahead of it. A put wakes one
 * consumer, however many are idle.
 */
public final class QueueEngine {

    private static final Logger LOG = LoggerFactory.getLogger(QueueEngine.class);
    /** How often an idle consumer looks at its stop flag (a local check, no request). */
    /** No request sent yet, so no retry to count. */
    private static final long NOT_SENT = Long.MIN_VALUE;
    private static final long STOP_CHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    /** A new queue's first bucket is below this; see {@link #firstBucket()}. */
    private static final long FIRST_BUCKET_RANGE = 5_000_000_000L;

    /**
     * A claimed task: where it is, what it holds, the version our claim gave it, and the token our
     * claim node holds (how we tell our claim from another's after an ambiguous outcome).
     */
    public record Claimed(String id, byte[] payload, int version, long createdMillis, long sessionId, byte[] token) {
    }

    private final ZkRecipes zk;
    private final CuratorFramework curator;
    private final String queueName;
    private final Layout layout;
    private final int bucketSize;
    private final int maxAttempts;

    private volatile long tailBucket = -1;
    private volatile String consumerId = defaultConsumerId();
    private final AtomicBoolean junkTailReported = new AtomicBoolean();
    private final Set<String> foreignReported = ConcurrentHashMap.newKeySet();

    // what this consumer believes is claimable, oldest first; guarded by this
    private final Deque<String> candidates = new ArrayDeque<>();
    // tasks a batch claimed ahead, for the consumer threads' next calls, oldest first; guarded by this
    private final Deque<Ahead> ready = new ArrayDeque<>();

    /** A task claimed ahead, and when. */
    private record Ahead(Claimed task, long claimedAtNanos) {
    }

    /**
     * How long a task claimed ahead may wait for a consumer thread before it is given back: a
     * handler that slows down or hangs must not hold the rest of its batch.
     */
    private static final long AHEAD_MAX_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    private static final long SETTLE_DELAY_MILLIS = 1000;
    /** How long past a claiming caller's timeout a batch may still wait for its replies. */
    private static final long CLAIM_GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    // Only times the settling; the work itself (blocking calls, bounded by the client's own
    // timeouts) runs on the client's own work pool, one task at a time per queue engine: a client
    // whose ensemble is unreachable never delays another client's settling, and thousands of
    // queues never mean thousands of threads.
    private static final ScheduledExecutorService SETTLER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "zkr-queue-settle-timer");
        t.setDaemon(true);
        return t;
    });
    private static final ScheduledExecutorService SWEEPER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "zkr-queue-claimed-ahead");
        t.setDaemon(true);
        return t;
    });

    // the idle line; guarded by lineLock
    private final SerialExecutor settleWork;
    private final Object lineLock = new Object();
    private String waiterNode;
    private long waiterSession;
    private final ConnectionStateListener connectionListener = (client, state) -> {
        if (state == ConnectionState.RECONNECTED
                || state == ConnectionState.CONNECTED
                || state == ConnectionState.LOST) {
            connectionChanged();
        }
    };
    private int waiting;
    private int claimers;
    private boolean armed;
    // one permit a sign of work: wakes one local waiter, who claims and so wakes the next
    private final Semaphore signals = new Semaphore(0);

    public QueueEngine(ZkRecipes zk, String queueName, String basePath, int bucketSize, int maxAttempts) {
        this.zk = zk;
        this.curator = zk.curator();
        this.queueName = queueName;
        this.layout = new Layout(basePath);
        this.bucketSize = bucketSize;
        this.maxAttempts = maxAttempts;
        this.settleWork = SerialExecutor.forWork("queue-" + queueName + "-settle", curator);
    }

    /** True for the names a queue uses for its own nodes ({@code tasks}, {@code dead}, ...). */
    public static boolean isReservedName(String segment) {
        return Layout.RESERVED.contains(segment);
    }

    private static String defaultConsumerId() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            host = "localhost";
        }
        return host + ":" + ProcessHandle.current().pid();
    }

    /** How this process's claims name their consumer. */
    public void consumerId(String id) {
        this.consumerId = id;
    }

    /** The tasks being handled now, by whom and since when; a claim read from another tool shows neither. */
    public List<ClaimInfo> claims() {
        try {
            List<String> names;
            try {
                names = new ArrayList<>(curator.getChildren().forPath(layout.claims));
            } catch (KeeperException.NoNodeException noQueueYet) {
                return List.of();
            }
            Collections.sort(names);
            List<ClaimInfo> result = new ArrayList<>();
            for (String n : names) {
                byte[] data;
                try {
                    data = curator.getData().forPath(ZKPaths.makePath(layout.claims, n));
                } catch (KeeperException.NoNodeException released) {
                    continue;
                }
                result.add(ClaimNode.info(n, data));
            }
            return result;
        } catch (Exception e) {
            throw ZkErrors.translate(curator, e, "reading the claims of queue '" + queueName + "'");
        }
    }

    /**
     * Creates the queue's nodes if they are missing; idempotent. Only writers call it (the first
     * put): reading a queue that does not exist creates nothing.
     */
    public void init() {
        try {
            for (String path : List.of(layout.tasks, layout.claims, layout.dead, layout.waiters)) {
                createIfMissing(path, new byte[0]);
            }
            // the tail is made last: its creation is what tells waiting consumers the queue exists,
            // so the bucket it points at must be there before it
            if (curator.checkExists().forPath(layout.tail) == null) {
                long first = firstBucket();
                createIfMissing(layout.bucket(first), new byte[0]);
                createIfMissing(layout.tail, Long.toString(first).getBytes(StandardCharsets.US_ASCII));
            }
            tailBucket = readTail();
            createIfMissing(layout.bucket(tailBucket), new byte[0]);
        } catch (Exception e) {
            throw ZkErrors.translate(curator, e, "setting up queue '" + queueName + "'");
        }
    }

    /**
     * Where a new queue's buckets start: a number of its own, so that a queue deleted and made
     * again under the same name never hands out an id it used before (a claim or an ack from the
     * old queue, late, must not match a task of the new one). Taken from the creation of the
     * {@code tasks} node, which every producer making the queue at once sees alike; below half the
     * ten digits a bucket name has, so that the numbers have room to grow.
     */
    private long firstBucket() throws Exception {
        Stat tasks = curator.checkExists().forPath(layout.tasks);
        return tasks == null ? 0 : Math.floorMod(tasks.getCzxid(), FIRST_BUCKET_RANGE);
    }

    /** The first write of this process makes the queue's nodes if nobody has yet. */
    private void ensureCreated() {
        if (tailBucket >= 0) {
            return;
        }
        try {
            if (curator.checkExists().forPath(layout.tail) != null) {
                tailBucket = Math.max(tailBucket, readTail());
                return;
            }
        } catch (Exception e) {
            throw ZkErrors.translate(curator, e, "reading queue '" + queueName + "'");
        }
        init();
    }

    private void createIfMissing(String path, byte[] data) throws Exception {
        try {
            curator.create().creatingParentContainersIfNeeded().forPath(path, data);
        } catch (KeeperException.NodeExistsException exists) {
            // made before
        }
    }

    private long readTail() throws Exception {
        return parseTail(curator.getData().forPath(layout.tail));
    }

    /**
     * The bucket number in the tail node; what is there is not ours to trust: junk (an operator, a
     * foreign tool) is reported and the highest bucket known is used instead of failing every worker.
     */
    private long parseTail(byte[] data) {
        String text = data == null ? "" : new String(data, StandardCharsets.US_ASCII).trim();
        try {
            long tail = Long.parseLong(text);
            if (tail >= 0) {
                return tail;
            }
        } catch (NumberFormatException junk) {
            // reported below
        }
        if (junkTailReported.compareAndSet(false, true)) {
            LOG.error("queue '{}': its tail node {} holds '{}', not a bucket number; using bucket {} (repair the node:"
                    + " write the highest bucket number under {})", queueName, layout.tail,
                    text.length() > 40 ? text.substring(0, 40) + "..." : text, Math.max(0, tailBucket), layout.tasks);
        }
        return Math.max(0, tailBucket);
    }

    // ---- producers ----

    /** Puts every payload in one transaction into the tail bucket; returns their ids, in order. */
    public List<String> put(List<byte[]> payloads) {
        ensureCreated();
        // the request as ZooKeeper counts it: per op its path (bucket prefix), data and framing
        long pathBytes = ZKPaths.makePath(layout.bucket(Math.max(0, tailBucket)), "t-").getBytes(StandardCharsets.UTF_8).length;
        long total = 512;
        for (byte[] p : payloads) {
            total += p.length + pathBytes + 48;
        }
        PayloadLimit.check(zk, total, payloads.size() == 1 ? "task of queue '" + queueName + "'"
                : "batch of " + payloads.size() + " tasks for queue '" + queueName + "' (putAll is one transaction; split it)");
        for (int attempt = 0; ; attempt++) {
            long bucket = tailBucket;
            String prefix = ZKPaths.makePath(layout.bucket(bucket), "t-");
            try {
                List<String> paths = new ArrayList<>(payloads.size());
                if (payloads.size() == 1) {
                    paths.add(curator.create().withMode(CreateMode.PERSISTENT_SEQUENTIAL).forPath(prefix, payloads.get(0)));
                } else {
                    List<CuratorOp> ops = new ArrayList<>(payloads.size());
                    for (byte[] p : payloads) {
                        ops.add(curator.transactionOp().create().withMode(CreateMode.PERSISTENT_SEQUENTIAL).forPath(prefix, p));
                    }
                    for (CuratorTransactionResult r : curator.transaction().forOperations(ops)) {
                        paths.add(r.getResultPath());
                    }
                }
                String last = paths.get(paths.size() - 1);
                if (SequentialNodes.sequence(ZKPaths.getNodeFromPath(last)) + 1 >= bucketSize) {
                    advanceTail(bucket);
                }
                List<String> ids = new ArrayList<>(paths.size());
                for (int i = 0; i < paths.size(); i++) {
                    ids.add(relocateIfOverflowed(paths.get(i), payloads.get(i)));
                }
                return ids;
            } catch (KeeperException.NoNodeException bucketGone) {
                // the bucket was drained and removed, or not made yet (a new queue): find the tail again
                try {
                    if (curator.checkExists().forPath(layout.tail) == null) {
                        init();
                    }
                    refreshTail(bucket);
                } catch (Exception e) {
                    throw ZkErrors.translate(curator, e, "putting into queue '" + queueName + "'");
                }
                if (attempt > 20) {
                    throw ZkErrors.translate(curator, bucketGone, "putting into queue '" + queueName + "'");
                }
            } catch (Exception e) {
                throw ZkErrors.translate(curator, e, "putting into queue '" + queueName + "'");
            }
        }
    }

    /**
     * Puts one task without waiting: the create is sent at once and the future completes with the
     * task's id when ZooKeeper confirms it. Many puts in flight share the round trips.
     */
    public CompletableFuture<String> putAsync(byte[] payload) {
        PayloadLimit.check(zk, payload.length + 64L, "task of queue '" + queueName + "'");
        CompletableFuture<String> result = new CompletableFuture<>();
        long bucket;
        try {
            ensureCreated();
            bucket = bucketForNextAsyncPut();
        } catch (Exception e) {
            result.completeExceptionally(ZkErrors.translate(curator, e, "putting into queue '" + queueName + "'"));
            return result;
        }
        try {
            curator.create().withMode(CreateMode.PERSISTENT_SEQUENTIAL).inBackground((client, event) -> {
                if (event.getResultCode() == KeeperException.Code.OK.intValue()) {
                    String path = event.getName();
                    if (SequentialNodes.sequence(ZKPaths.getNodeFromPath(path)) >= bucketSize) {
                        // producers elsewhere filled the bucket first: move the task on, off the event thread
                        CompletableFuture.supplyAsync(() -> relocateIfOverflowed(path, payload))
                                .whenComplete((id, error) -> {
                                    if (error != null) {
                                        result.completeExceptionally(error);
                                    } else {
                                        result.complete(id);
                                    }
                                });
                        return;
                    }
                    result.complete(layout.taskId(path));
                    if (SequentialNodes.sequence(ZKPaths.getNodeFromPath(path)) + 1 >= bucketSize && bucket == tailBucket
                            && advancing.compareAndSet(bucket, bucket + 1)) {
                        // exactly one put sees the bucket fill up: it moves the tail, off the event thread
                        CompletableFuture.runAsync(() -> {
                            try {
                                advanceTail(bucket);
                            } catch (Exception e) {
                                // the next put that finds the bucket gone moves the tail
                            }
                        });
                    }
                } else {
                    // the bucket is gone or the connection failed: do it the patient way, off the event thread
                    CompletableFuture.supplyAsync(() -> put(List.of(payload)).get(0))
                            .whenComplete((id, error) -> {
                                if (error != null) {
                                    result.completeExceptionally(error);
                                } else {
                                    result.complete(id);
                                }
                            });
                }
            }).forPath(ZKPaths.makePath(layout.bucket(bucket), "t-"), payload);
        } catch (Exception e) {
            result.completeExceptionally(ZkErrors.translate(curator, e, "putting into queue '" + queueName + "'"));
        }
        return result;
    }

    /**
     * Keeps every bucket at {@code bucketSize} tasks at most, however many producers write at once:
     * a task that landed past the bound (its sequence says so) is moved to the tail bucket in one
     * transaction, while nobody has claimed it (its version still 0, no claim node: the claim node
     * is created and deleted in the same transaction to prove it). A task that was claimed first
     * stays where it is until it is acknowledged.
     *
     * @return the task's id, where it ends up
     */
    private String relocateIfOverflowed(String path, byte[] payload) {
        String id = layout.taskId(path);
        long bucket = Layout.bucketNumber(ZKPaths.getNodeFromPath(ZKPaths.getPathAndNode(path).getPath()));
        if (SequentialNodes.sequence(ZKPaths.getNodeFromPath(path)) < bucketSize) {
            return id;
        }
        String claim = layout.claimPath(id);
        for (int attempt = 0; attempt < 10; attempt++) {
            try {
                if (tailBucket <= bucket) {
                    advanceTail(bucket);
                }
                String target = ZKPaths.makePath(layout.bucket(Math.max(tailBucket, bucket + 1)), "t-");
                List<CuratorTransactionResult> results = curator.transaction().forOperations(
                        curator.transactionOp().create().withMode(CreateMode.PERSISTENT_SEQUENTIAL).forPath(target, payload),
                        curator.transactionOp().delete().withVersion(0).forPath(path),
                        curator.transactionOp().create().withMode(CreateMode.EPHEMERAL).forPath(claim),
                        curator.transactionOp().delete().forPath(claim));
                return relocateIfOverflowed(results.get(0).getResultPath(), payload);
            } catch (KeeperException.BadVersionException | KeeperException.NodeExistsException claimed) {
                // a consumer took it first: it leaves the bucket when acknowledged
                return id;
            } catch (KeeperException.NoNodeException moved) {
                if (!exists(path)) {
                    // acknowledged already, or our own move applied with its reply lost: its new id is
                    // not known here, the task is in the queue either way
                    return id;
                }
                // the target bucket is not made yet: move the tail and try again
                try {
                    refreshTail(bucket);
                    advanceTail(Math.max(bucket, tailBucket));
                } catch (Exception e) {
                    return id;
                }
            } catch (Exception e) {
                LOG.warn("queue '{}': task {} landed past its bucket's bound and could not be moved on ({}); it is"
                        + " delivered from where it is", queueName, id, e.toString());
                return id;
            }
        }
        return id;
    }

    private boolean exists(String path) {
        try {
            return curator.checkExists().forPath(path) != null;
        } catch (Exception e) {
            return true;
        }
    }

    // puts sent without waiting, per bucket: a pipelined producer moves on after bucketSize of them,
    // before any reply could tell it the bucket is full; guarded by asyncPuts
    private final Object asyncPuts = new Object();
    private long asyncBucket = -1;
    private int asyncSent;
    private final AtomicLong advancing = new AtomicLong(-1);

    private long bucketForNextAsyncPut() throws Exception {
        synchronized (asyncPuts) {
            if (asyncBucket != tailBucket) {
                asyncBucket = tailBucket;
                asyncSent = 0;
            }
            if (asyncSent >= bucketSize) {
                advanceTail(asyncBucket);
                asyncBucket = tailBucket;
                asyncSent = 0;
            }
            asyncSent++;
            return asyncBucket;
        }
    }

    /**
     * Moves producers on from a full bucket: the next bucket is made and the tail pointed at it in
     * one transaction, on the tail's version as read. A producer that is behind (the tail moved
     * meanwhile) makes nothing: a bucket it made again after it was drained and removed would number
     * its tasks from the start, and ids would repeat.
     */
    private void advanceTail(long full) throws Exception {
        Stat stat = new Stat();
        long current = Long.parseLong(new String(curator.getData().storingStatIn(stat).forPath(layout.tail),
                StandardCharsets.US_ASCII).trim());
        if (current == full) {
            byte[] next = Long.toString(full + 1).getBytes(StandardCharsets.US_ASCII);
            try {
                curator.transaction().forOperations(
                        curator.transactionOp().create().forPath(layout.bucket(full + 1), new byte[0]),
                        curator.transactionOp().setData().withVersion(stat.getVersion()).forPath(layout.tail, next));
                current = full + 1;
            } catch (KeeperException.BadVersionException raced) {
                current = readTail();
            } catch (KeeperException.NodeExistsException made) {
                // made already (by an older producer, or our own transaction retried after a lost reply)
                try {
                    curator.setData().withVersion(stat.getVersion()).forPath(layout.tail, next);
                    current = full + 1;
                } catch (KeeperException.BadVersionException raced) {
                    current = readTail();
                }
            }
        }
        tailBucket = Math.max(tailBucket, current);
    }

    private void refreshTail(long seen) throws Exception {
        long tail = readTail();
        createIfMissing(layout.bucket(tail), new byte[0]);
        tailBucket = Math.max(tail, seen == tailBucket ? tail : tailBucket);
    }

    // ---- consumers ----

    /**
     * Claims the oldest task it can, waiting up to {@code timeoutNanos} for one.
     *
     * @return the claimed task, or null on timeout
     */
    public Claimed claim(long timeoutNanos) throws InterruptedException {
        return claim(timeoutNanos, () -> false);
    }

    /**
     * Like {@link #claim(long)}, giving up early (null) once {@code stop} says so; {@link #wakeIdle}
     * makes a waiting claim look at it at once. Stopping this way never interrupts a request in
     * flight, so no claim is left that no thread holds.
     */
    public Claimed claim(long timeoutNanos, BooleanSupplier stop) throws InterruptedException {
        return claim(timeoutNanos, stop, 1);
    }

    /**
     * Like {@link #claim(long, BooleanSupplier)}, claiming up to {@code batch} tasks at once when it
     * has to go to ZooKeeper: the first is returned, the others wait in this engine for the next
     * calls ({@link #takeReady()} hands them out without a request). Only a caller that will keep
     * claiming (a consumer loop) may ask for more than one: a claim taken ahead is held by nobody
     * until then.
     */
    public Claimed claim(long timeoutNanos, BooleanSupplier stop, int batch) throws InterruptedException {
        Claimed ready = takeReady();
        if (ready != null) {
            return ready;
        }
        synchronized (lineLock) {
            if (claimers++ == 0) {
                // hear the connection while anyone waits here: a watch may die with the session
                curator.getConnectionStateListenable().addListener(connectionListener);
            }
        }
        try {
            return claimOrTimeOut(timeoutNanos, stop, batch);
        } finally {
            leaveLineIfIdle();
        }
    }

    private Claimed claimOrTimeOut(long timeoutNanos, BooleanSupplier stop, int batch) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutNanos;
        while (true) {
            if (stop.getAsBoolean()) {
                return null;
            }
            Claimed ready = takeReady();
            if (ready != null) {
                return ready;
            }
            List<String> paths = nextCandidates(batch);
            if (paths.isEmpty()) {
                if (!refill(ioBound(deadline))) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return null;
                    }
                    awaitWork(left, stop, ioBound(deadline));
                }
                continue;
            }
            List<Claimed> claimed = tryClaimAll(paths, deadline);
            if (!claimed.isEmpty()) {
                addReady(claimed.subList(1, claimed.size()));
                return claimed.get(0);
            }
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            if (System.nanoTime() - deadline > 0) {
                // every candidate taken by others so far: the timeout holds all the same
                return null;
            }
        }
    }

    /**
     * How long the requests of a claiming caller may wait: what a request may take on a live
     * connection, and no more than the caller's timeout allows (with a little grace, so that a
     * poll(0) can still read and claim once). Curator's foreground calls would block through the
     * whole retry policy instead: minutes on an unreachable ensemble.
     */
    private Deadline ioBound(long callerDeadlineNanos) {
        return Deadline.forClosing(curator).min(Deadline.afterNanos(
                Math.max(0, callerDeadlineNanos - System.nanoTime()) + CLAIM_GRACE_NANOS));
    }

    private List<String> children(Deadline d, String path) throws Exception {
        return Background.call(d, cb -> curator.getChildren().inBackground(cb).forPath(path)).getChildren();
    }

    private List<String> children(Deadline d, String path, Watcher watcher) throws Exception {
        return Background.call(d, cb -> curator.getChildren().usingWatcher(watcher).inBackground(cb).forPath(path))
                .getChildren();
    }

    private byte[] data(Deadline d, String path) throws Exception {
        return Background.call(d, cb -> curator.getData().inBackground(cb).forPath(path)).getData();
    }

    private byte[] data(Deadline d, String path, Watcher watcher) throws Exception {
        return Background.call(d, cb -> curator.getData().usingWatcher(watcher).inBackground(cb).forPath(path)).getData();
    }

    /** Whether {@code path} exists, watching it either way. */
    private boolean exists(Deadline d, String path, Watcher watcher) throws Exception {
        CuratorEvent e = Background.await(d, Background.send(
                cb -> curator.checkExists().usingWatcher(watcher).inBackground(cb).forPath(path)));
        if (e.getResultCode() == KeeperException.Code.NONODE.intValue()) {
            return false;
        }
        Background.succeeded(e);
        return true;
    }

    private synchronized List<String> nextCandidates(int max) {
        List<String> paths = new ArrayList<>(Math.min(max, candidates.size()));
        while (paths.size() < max && !candidates.isEmpty()) {
            paths.add(candidates.pollFirst());
        }
        return paths;
    }

    /**
     * A task claimed ahead by a batch, if any: handed out without a request, and only while the
     * client is connected on the session that made the claim. While disconnected none is handed
     * out: the session may be gone on the server already, its claims with it, and the task taken and
     * acknowledged by another consumer. One whose claim went with a session the client has left is
     * dropped (the task is delivered again, to whoever claims it); one that waited too long is left
     * to the sweep, which gives it back.
     */
    public Claimed takeReady() {
        synchronized (this) {
            Ahead a;
            while ((a = ready.peekFirst()) != null) {
                if (System.nanoTime() - a.claimedAtNanos() > AHEAD_MAX_NANOS) {
                    break;
                }
                Claimed c = a.task();
                if (Sessions.isCurrent(curator, c.sessionId())) {
                    if (!curator.getZookeeperClient().isConnected()) {
                        return null;
                    }
                    ready.pollFirst();
                    return c;
                }
                ready.pollFirst();
            }
        }
        giveBackStaleAhead();
        return null;
    }

    private void addReady(List<Claimed> claimed) {
        if (claimed.isEmpty()) {
            return;
        }
        long now = System.nanoTime();
        synchronized (this) {
            for (Claimed c : claimed) {
                ready.addLast(new Ahead(c, now));
            }
        }
        SWEEPER.schedule(this::giveBackStaleAhead, TimeUnit.NANOSECONDS.toMillis(AHEAD_MAX_NANOS) + 20, TimeUnit.MILLISECONDS);
    }

    /** Gives back, uncounted, the tasks claimed ahead that no thread took in time. */
    private void giveBackStaleAhead() {
        List<Claimed> stale = new ArrayList<>();
        synchronized (this) {
            Ahead a;
            while ((a = ready.peekFirst()) != null && System.nanoTime() - a.claimedAtNanos() > AHEAD_MAX_NANOS) {
                stale.add(ready.pollFirst().task());
            }
        }
        for (Claimed c : stale) {
            giveBackInBackground(c);
        }
    }

    private synchronized Claimed pollReady() {
        Ahead a = ready.pollFirst();
        return a == null ? null : a.task();
    }

    /** Gives back every task claimed ahead that no thread took (a consumer stopping). */
    public void releaseReady() {
        // all sent at once, and awaited together within one closing bound: one after the other, an
        // unreachable ensemble made each wait out its own bound. What is not answered by then is
        // settled in the background, as a doubt
        List<CompletableFuture<SentOnce.Outcome>> replies = new ArrayList<>();
        Claimed c;
        while ((c = pollReady()) != null) {
            CompletableFuture<SentOnce.Outcome> reply = giveBackInBackground(c);
            if (reply != null) {
                replies.add(reply);
            }
        }
        if (replies.isEmpty()) {
            return;
        }
        try {
            Deadline.forClosing(curator).await(CompletableFuture.allOf(replies.toArray(CompletableFuture[]::new)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.info("queue '{}': {} tasks claimed ahead are not given back yet ({}); they are settled in the background",
                    queueName, replies.stream().filter(r -> !r.isDone()).count(), e.toString());
        }
    }

    /** Puts a released task back at the front of this consumer's line. */
    private synchronized void pushFront(String path) {
        candidates.addFirst(path);
    }

    /** Reads the oldest buckets that hold unclaimed tasks into {@code candidates}; false if none. */
    private boolean refill(Deadline io) {
        try {
            // on the settle pool, one settler at a time: never two give-backs of one claim, and a
            // poll's timeout never waits on another claim's settling
            if (!doubts.isEmpty()) {
                settleSoon();
            }
            // a process that only consumes learns where producers are from the tail node
            List<String> buckets;
            Set<String> claimed;
            long tailNow;
            try {
                tailNow = parseTail(data(io, layout.tail));
                tailBucket = Math.max(tailBucket, tailNow);
                buckets = Layout.bucketsIn(children(io, layout.tasks), this::reportForeign);
                claimed = new HashSet<>(children(io, layout.claims));
            } catch (KeeperException.NoNodeException noQueueYet) {
                return false;
            }
            List<String> found = new ArrayList<>();
            for (String bucket : buckets) {
                String bucketPath = ZKPaths.makePath(layout.tasks, bucket);
                List<String> children;
                try {
                    children = Layout.tasksIn(children(io, bucketPath), bucketPath, this::reportForeign);
                } catch (KeeperException.NoNodeException gone) {
                    continue;
                }
                if (children.isEmpty()) {
                    removeIfDrained(bucket, bucketPath, tailNow, io);
                    continue;
                }
                for (String child : children) {
                    if (!claimed.contains(bucket + "-" + child)) {
                        found.add(bucketPath + "/" + child);
                    }
                }
                if (found.size() >= 64) {
                    break;
                }
            }
            synchronized (this) {
                candidates.clear();
                candidates.addAll(found);
            }
            return !found.isEmpty();
        } catch (Exception e) {
            throw ZkErrors.translate(curator, e, "reading queue '" + queueName + "'");
        }
    }

    /** The queue's buckets in order; none for a queue nobody has put into (nothing is created). */
    private List<String> buckets() throws Exception {
        try {
            return Layout.bucketsIn(curator.getChildren().forPath(layout.tasks), this::reportForeign);
        } catch (KeeperException.NoNodeException noQueueYet) {
            return List.of();
        }
    }

    private void reportForeign(String path) {
        if (foreignReported.add(path) && foreignReported.size() < 1000) {
            LOG.warn("queue '{}': {} is not a node of this queue (an operator's, another tool's?); it is skipped, never"
                    + " delivered as a task", queueName, path);
        }
    }

    /**
     * An empty bucket behind the tail will never fill again: remove it so the bucket list stays
     * short. Behind the tail as just read ({@code tailNow}), not as this process last knew it: a
     * queue deleted and made again starts elsewhere, and its tail bucket must never look drained.
     */
    private void removeIfDrained(String bucket, String bucketPath, long tailNow, Deadline io) throws Exception {
        if (Layout.bucketNumber(bucket) < tailNow) {
            try {
                Background.call(io, cb -> curator.delete().inBackground(cb).forPath(bucketPath));
            } catch (KeeperException.NotEmptyException | KeeperException.NoNodeException raced) {
                // a late producer wrote into it, or another consumer removed it
            }
        }
    }

    /**
     * Claims what it can of {@code paths}, each task in its own transaction: the task still at the
     * version we read (bumped: one more delivery) and our ephemeral claim created. The reads go out
     * together, then the claims together, so a batch costs about two round trips and a task taken
     * by another consumer costs only itself. A task out of attempts goes to the dead letters instead.
     *
     * <p>A claim whose outcome stays unknown (connection lost, the wait below passed) is recorded
     * as in doubt and settled by the next refill: given back if it landed.
     */
    private List<Claimed> tryClaimAll(List<String> paths, long callerDeadlineNanos) throws InterruptedException {
        // the bound of one batch: what a request may take on a live connection, and no more than the
        // caller's timeout allows (with a little grace, so that a poll(0) can still claim once);
        // claims whose reply comes later are in doubt and settled then
        Deadline deadline = ioBound(callerDeadlineNanos);
        List<CompletableFuture<CuratorEvent>> reads = new ArrayList<>(paths.size());
        for (String path : paths) {
            reads.add(Background.send(cb -> curator.getData().inBackground(cb).forPath(path)));
        }
        long sessionBefore = Sessions.currentSessionId(curator);
        List<Attempt> sent = new ArrayList<>(paths.size());
        Exception failure = null;
        boolean taken = false;
        for (int i = 0; i < paths.size(); i++) {
            String path = paths.get(i);
            String id = layout.taskId(path);
            CuratorEvent read;
            try {
                read = Background.await(deadline, reads.get(i));
            } catch (InterruptedException e) {
                settleLater(sent);
                throw e;
            } catch (Exception e) {
                failure = e;
                continue;
            }
            if (read.getResultCode() == KeeperException.Code.NONODE.intValue()) {
                taken = true;  // acknowledged by someone
                continue;
            }
            if (read.getResultCode() != KeeperException.Code.OK.intValue()) {
                failure = KeeperException.create(KeeperException.Code.get(read.getResultCode()), path);
                continue;
            }
            Stat stat = read.getStat();
            byte[] payload = read.getData();
            if (stat.getVersion() >= maxAttempts) {
                try {
                    deadLetter(id, payload, stat.getVersion(), stat.getCtime(), null);
                } catch (Exception e) {
                    failure = e;
                }
                continue;
            }
            // what our claim node holds: a token that, after an ambiguous outcome, tells our claim
            // from another's, then who holds it and since when (for operators)
            byte[] token = ClaimNode.newData(consumerId);
            Attempt a = new Attempt(id, path, payload, stat, token);
            a.reply = Background.send(cb -> curator.transaction().inBackground(cb).forOperations(
                    curator.transactionOp().setData().withVersion(stat.getVersion()).forPath(path, payload),
                    curator.transactionOp().create().withMode(CreateMode.EPHEMERAL).forPath(layout.claimPath(id), token)));
            sent.add(a);
        }
        List<Claimed> claimed = new ArrayList<>(sent.size());
        List<Attempt> refused = new ArrayList<>();
        for (int i = 0; i < sent.size(); i++) {
            Attempt a = sent.get(i);
            CuratorEvent reply;
            try {
                reply = Background.await(deadline, a.reply);
            } catch (InterruptedException e) {
                settleLater(sent.subList(i, sent.size()));
                // refused ones not read back yet may be ours too
                settleLater(refused);
                addReady(claimed);
                throw e;
            } catch (Exception e) {
                settleLater(List.of(a));
                failure = e;
                continue;
            }
            KeeperException.Code code = KeeperException.Code.get(reply.getResultCode());
            long session = sessionOf(sessionBefore);
            switch (code) {
                // the session changed while the claim was on its way: which one holds it is read back
                case OK -> {
                    if (session == 0) {
                        refused.add(a);
                    } else {
                        claimed.add(new Claimed(a.id, a.payload, a.stat.getVersion() + 1, a.stat.getCtime(), session, a.token));
                    }
                }
                // Claimed by another consumer or acknowledged -- or our own claim, applied, its reply
                // lost and Curator's retry then failing on the version our claim bumped.
                case NONODE, NODEEXISTS, BADVERSION -> refused.add(a);
                default -> {
                    settleLater(List.of(a));
                    failure = KeeperException.create(code, a.path);
                }
            }
        }
        try {
            claimed.addAll(oursAmong(refused, deadline));
        } catch (InterruptedException e) {
            addReady(claimed);
            throw e;
        }
        taken |= claimed.size() < sent.size();
        // waiting on the batch's other replies may have outlasted the session that made a claim:
        // such a claim went with it, and the task may be acknowledged by another consumer already
        claimed.removeIf(c -> !Sessions.isCurrent(curator, c.sessionId()));
        if (taken) {
            // another consumer works here too: move on past it, further the more we take at once
            skipAhead(8 * paths.size());
        }
        if (claimed.isEmpty() && failure != null) {
            throw ZkErrors.translate(curator, failure, "claiming a task of queue '" + queueName + "'");
        }
        return claimed;
    }

    /** One task of a batch: what was read, and the reply to our claim. */
    private static final class Attempt {
        final String id;
        final String path;
        final byte[] payload;
        final Stat stat;
        final byte[] token;
        CompletableFuture<CuratorEvent> reply;

        Attempt(String id, String path, byte[] payload, Stat stat, byte[] token) {
            this.id = id;
            this.path = path;
            this.payload = payload;
            this.stat = stat;
            this.token = token;
        }
    }

    private void settleLater(List<Attempt> attempts) {
        for (Attempt a : attempts) {
            inDoubt(new Doubt(Doubt.Kind.CLAIM, a.id, a.token, a.stat.getVersion() + 1, a.reply));
        }
    }

    /** The refused claims that are ours after all (applied, reply lost), read back together. */
    private List<Claimed> oursAmong(List<Attempt> refused, Deadline deadline) throws InterruptedException {
        if (refused.isEmpty()) {
            return List.of();
        }
        List<CompletableFuture<CuratorEvent>> holders = new ArrayList<>(refused.size());
        for (Attempt a : refused) {
            holders.add(Background.send(cb -> curator.getData().inBackground(cb).forPath(layout.claimPath(a.id))));
        }
        List<Claimed> ours = new ArrayList<>();
        for (int i = 0; i < refused.size(); i++) {
            Attempt a = refused.get(i);
            CuratorEvent holder;
            try {
                holder = Background.await(deadline, holders.get(i));
            } catch (InterruptedException e) {
                settleLater(refused.subList(i, refused.size()));
                // the ones found ours already are held by no thread now: handed out later, or given back
                addReady(ours);
                throw e;
            } catch (Exception e) {
                settleLater(List.of(a));
                continue;
            }
            if (holder.getResultCode() == KeeperException.Code.OK.intValue() && Arrays.equals(holder.getData(), a.token)) {
                Claimed c = adopt(a);
                if (c != null) {
                    ours.add(c);
                }
            } else if (holder.getResultCode() != KeeperException.Code.OK.intValue()
                    && holder.getResultCode() != KeeperException.Code.NONODE.intValue()) {
                settleLater(List.of(a));
            }
        }
        return ours;
    }

    /**
     * Our claim, found holding our token after a refused retry: taken over as if the claim had
     * answered, with the session it lives on if that is still ours. Null if it went meanwhile; in
     * doubt (settled later) if it cannot be read now.
     */
    private Claimed adopt(Attempt a) {
        try {
            long sessionBefore = Sessions.currentSessionId(curator);
            Stat claimStat = curator.checkExists().forPath(layout.claimPath(a.id));
            Stat task = curator.checkExists().forPath(layout.taskPath(a.id));
            if (task == null || claimStat == null) {
                return null;
            }
            long session = sessionBefore != 0 && claimStat.getEphemeralOwner() == sessionBefore ? sessionOf(sessionBefore) : 0;
            if (session != 0) {
                return new Claimed(a.id, a.payload, task.getVersion(), a.stat.getCtime(), session, a.token);
            }
            if (sessionBefore != 0 && claimStat.getEphemeralOwner() != sessionBefore) {
                // made on a session this client has left: the claim goes with it, the task comes back
                return null;
            }
            // the session changed while we looked: settled later, from whatever session is current then
            settleLater(List.of(a));
            return null;
        } catch (Exception e) {
            settleLater(List.of(a));
            return null;
        }
    }

    private synchronized void skipAhead(int span) {
        int skip = ThreadLocalRandom.current().nextInt(Math.min(span, candidates.size() + 1));
        for (int i = 0; i < skip; i++) {
            candidates.addLast(candidates.pollFirst());
        }
    }

    /** Acknowledges: task and claim deleted together, if the task is still at our claim's version. */
    public void ack(Claimed task) {
        try {
            curator.transaction().forOperations(
                    curator.transactionOp().delete().withVersion(task.version()).forPath(layout.taskPath(task.id())),
                    curator.transactionOp().delete().forPath(layout.claimPath(task.id())));
        } catch (KeeperException.NoNodeException | KeeperException.BadVersionException gone) {
            if (ackedAlready(task)) {
                // our own ack, applied, its reply lost and Curator's retry then finding nothing
                return;
            }
            throw claimLost(task, gone);
        } catch (Exception e) {
            inDoubt(new Doubt(Doubt.Kind.ACK, task.id(), null, task.version()));
            throw ZkErrors.translate(curator, e, "acknowledging task " + task.id() + " of queue '" + queueName
                    + "' (it is acknowledged in the background once ZooKeeper answers, if its claim still holds)");
        }
    }

    /**
     * True if our own ack was applied (its reply lost, Curator's retry finding nothing): the claim
     * was made on the session we still have, before and after looking, and both the claim and the
     * task are gone. A task still there was acknowledged by nobody, whoever removed our claim (an
     * operator, say); a claim lost with its session is not ours to call acknowledged, whoever
     * acknowledged the task since.
     */
    private boolean ackedAlready(Claimed task) {
        if (task.sessionId() == 0 || !Sessions.isCurrent(curator, task.sessionId())) {
            return false;
        }
        try {
            boolean bothGone = curator.checkExists().forPath(layout.claimPath(task.id())) == null
                    && curator.checkExists().forPath(layout.taskPath(task.id())) == null;
            // a read retried across a new session finds the claim gone with the old one: not our ack
            return bothGone && Sessions.isCurrent(curator, task.sessionId());
        } catch (Exception e) {
            return false;
        }
    }

    private LeadershipLostException claimLost(Claimed task, Exception cause) {
        return new LeadershipLostException("the claim on task " + task.id() + " of queue '" + queueName
                + "' was lost (its session expired, or the claim node was removed); the task was not acknowledged"
                + " and is delivered again", cause);
    }

    /** {@code before}, if the client is still on that session now (the claim was made on it); else 0. */
    private long sessionOf(long before) {
        return Sessions.currentSessionId(curator) == before ? before : 0;
    }

    /**
     * Acknowledges without waiting: the transaction is sent and {@code whenDone} runs with null on
     * success or the failure: on ZooKeeper's event thread (keep it short), or on the client's work
     * pool when telling our own retried ack from a lost claim takes reads. A lost claim is a
     * {@link LeadershipLostException}.
     */
    public void ackAsync(Claimed task, Consumer<RuntimeException> whenDone) {
        try {
            curator.transaction().inBackground((client, event) -> {
                if (event.getResultCode() == KeeperException.Code.OK.intValue()) {
                    whenDone.accept(null);
                } else {
                    KeeperException.Code code = KeeperException.Code.get(event.getResultCode());
                    if (code == KeeperException.Code.NONODE || code == KeeperException.Code.BADVERSION) {
                        // our own ack retried after a lost reply, or the claim is gone: nothing is left
                        // to send; which one it was takes reads, never on this thread
                        KeeperException gone = KeeperException.create(code);
                        settleWork.execute(() -> whenDone.accept(ackedAlready(task) ? null : claimLost(task, gone)));
                    } else {
                        inDoubt(new Doubt(Doubt.Kind.ACK, task.id(), null, task.version()));
                        whenDone.accept(ZkErrors.translate(curator, KeeperException.create(code), "acknowledging task " + task.id()
                                + " (it is acknowledged in the background once ZooKeeper answers, if its claim still holds)"));
                    }
                }
            }).forOperations(
                    curator.transactionOp().delete().withVersion(task.version()).forPath(layout.taskPath(task.id())),
                    curator.transactionOp().delete().forPath(layout.claimPath(task.id())));
        } catch (Exception e) {
            whenDone.accept(ZkErrors.translate(curator, e, "acknowledging task " + task.id() + " of queue '" + queueName + "'"));
        }
    }

    /**
     * Gives a task back: deletes the claim (only while the task is still at our version), or, when
     * it used its last attempt, moves it to the dead letters. Quiet if the claim is already gone.
     */
    public void release(Claimed task) {
        try {
            if (task.version() >= maxAttempts) {
                deadLetter(task.id(), task.payload(), task.version(), task.createdMillis(), layout.claimPath(task.id()));
                return;
            }
            curator.transaction().forOperations(
                    curator.transactionOp().check().withVersion(task.version()).forPath(layout.taskPath(task.id())),
                    curator.transactionOp().delete().forPath(layout.claimPath(task.id())));
            pushFront(layout.taskPath(task.id()));
            signals.release();
        } catch (KeeperException.NoNodeException | KeeperException.BadVersionException gone) {
            // the claim is gone already (lost with the session, or our own release retried after a
            // lost reply): either way the task is free for others
        } catch (Exception e) {
            inDoubt(new Doubt(Doubt.Kind.RELEASE, task.id(), task.token(), task.version()));
            throw ZkErrors.translate(curator, e, "releasing task " + task.id() + " of queue '" + queueName
                    + "' (it is released in the background once ZooKeeper answers)");
        }
    }

    /**
     * Gives back a task we claimed but never handed to a handler, without counting that claim as a
     * delivery. A ZooKeeper version cannot go down, so the task node is written anew under the same
     * name (its place in the line kept) and bumped back to the deliveries it had before, in one
     * transaction with the claim's delete. Its enqueue time becomes now. Quiet if the claim is gone.
     *
     * <p>Sent once, never resent: after a lost reply, a resent give-back could match a claim another
     * consumer made meanwhile (it brings the version back to ours) and undo it. An outcome left
     * unknown is settled later by reading whose claim is there.
     */
    void giveBack(Claimed task) {
        giveBack(task.id(), task.payload(), task.version(), task.token());
    }

    private void giveBack(String id, byte[] payload, int claimedVersion, byte[] token) {
        CompletableFuture<SentOnce.Outcome> reply = sendGiveBack(id, payload, claimedVersion);
        Doubt doubt = new Doubt(Doubt.Kind.GIVE_BACK, id, token, claimedVersion, reply);
        SentOnce.Outcome outcome;
        try {
            outcome = Deadline.forClosing(curator).extendedBy(curator.getZookeeperClient().getLastNegotiatedSessionTimeoutMs()
                    * 1_000_000L).await(reply);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            inDoubt(doubt);
            throw ZkErrors.translate(curator, e, "giving back task " + id + " of queue '" + queueName + "'");
        } catch (Exception e) {
            inDoubt(doubt);
            throw ZkErrors.translate(curator, e, "giving back task " + id + " of queue '" + queueName + "'");
        }
        gaveBack(outcome, doubt);
    }

    /**
     * Gives back without waiting (the sweep of tasks claimed ahead must never stall on one
     * connection): the outcome is handled when it comes; an unknown one becomes a doubt, settled soon.
     *
     * @return the reply to come, or null if the give-back could not be sent
     */
    private CompletableFuture<SentOnce.Outcome> giveBackInBackground(Claimed task) {
        CompletableFuture<SentOnce.Outcome> reply;
        try {
            reply = sendGiveBack(task.id(), task.payload(), task.version());
        } catch (RuntimeException e) {
            LOG.info("queue '{}': could not give back task {} claimed ahead: {}", queueName, task.id(), e.getMessage());
            return null;
        }
        Doubt doubt = new Doubt(Doubt.Kind.GIVE_BACK, task.id(), task.token(), task.version(), reply);
        reply.whenComplete((outcome, failure) -> {
            if (outcome != null) {
                gaveBack(outcome, doubt);
            } else {
                inDoubt(doubt);
            }
        });
        return reply;
    }

    /**
     * The give-back transaction, sent once. The payload travels once (in the last write), however
     * many deliveries the task had: the node is created empty, bumped back to its deliveries, and the
     * last bump carries the payload, so the request is no larger than the task's own put.
     */
    private CompletableFuture<SentOnce.Outcome> sendGiveBack(String id, byte[] payload, int claimedVersion) {
        String path = layout.taskPath(id);
        try {
            List<CuratorOp> ops = new ArrayList<>();
            ops.add(curator.transactionOp().delete().withVersion(claimedVersion).forPath(path));
            int bumps = claimedVersion - 1;  // the deliveries it had before the claim we give back
            ops.add(curator.transactionOp().create().forPath(path, bumps == 0 ? payload : new byte[0]));
            for (int bump = 1; bump <= bumps; bump++) {
                ops.add(curator.transactionOp().setData().forPath(path, bump == bumps ? payload : new byte[0]));
            }
            ops.add(curator.transactionOp().delete().forPath(layout.claimPath(id)));
            return SentOnce.curatorOps(curator, ops);
        } catch (Exception e) {
            throw ZkErrors.translate(curator, e, "giving back task " + id + " of queue '" + queueName + "'");
        }
    }

    private void gaveBack(SentOnce.Outcome outcome, Doubt doubt) {
        switch (outcome.code()) {
            case OK -> {
                pushFront(layout.taskPath(doubt.id()));
                signals.release();
            }
            // the task is not at our claim's version or our claim is gone: lost with the session
            case NONODE, BADVERSION, SESSIONEXPIRED -> { }
            default -> {
                inDoubt(doubt);
                settleSoon();
            }
        }
    }

    // ---- claims in doubt: ours on the server, held by no thread ----

    /** A claim, ack or release whose outcome is unknown: settled at the next chance. */
    private record Doubt(Kind kind, String id, byte[] token, int version, CompletableFuture<?> pending) {
        enum Kind { CLAIM, ACK, RELEASE, GIVE_BACK }

        Doubt(Kind kind, String id, byte[] token, int version) {
            this(kind, id, token, version, null);
        }

        /**
         * One key per claim for a claim and its give-back: a give-back on its way replaces the claim's
         * doubt, so that the claim is never given back twice (a second give-back could undo the claim
         * another consumer made in between). The token keeps apart two claims of ours on one task: a
         * doubt about the later one must not hide an earlier claim that landed.
         */
        String key() {
            return switch (kind) {
                case CLAIM, GIVE_BACK -> "CLAIM:" + id + ":" + Arrays.hashCode(token);
                case ACK, RELEASE -> kind + ":" + id;
            };
        }

        /** A request still on its way may land after we look: settle only once it has an answer. */
        boolean answered() {
            return pending == null || pending.isDone();
        }
    }

    /**
     * One entry per claim in doubt (kind, task and claim), so that repeated failures while ZooKeeper is
     * unreachable do not pile up; the latest doubt about a task replaces the one before.
     */
    private final Map<String, Doubt> doubts = new ConcurrentHashMap<>();

    private void inDoubt(Doubt d) {
        doubts.put(d.key(), d);
        settleSoon();
    }

    private final AtomicBoolean settling = new AtomicBoolean();

    /**
     * Settles the doubts in a little while even if no consumer refills again (a subscription
     * closed, a poller gone): a claim of ours must not outlive its use for the whole session. Runs
     * on the client's work pool, never the sweeper's; tries again while doubts remain and the
     * client lives.
     */
    private void settleSoon() {
        if (!settling.compareAndSet(false, true)) {
            return;
        }
        SETTLER.schedule(() -> settleWork.execute(this::settleNow), SETTLE_DELAY_MILLIS, TimeUnit.MILLISECONDS);
    }

    private void settleNow() {
        try {
            if (doubts.isEmpty()) {
                return;
            }
            try {
                zk.checkStarted();
            } catch (IllegalStateException closed) {
                doubts.clear();
                return;  // the client is closed: its session, and every claim of it, is gone
            }
            reconcileInDoubt();
        } catch (RuntimeException e) {
            LOG.debug("queue '{}': settling claims in doubt failed for now: {}", queueName, e.toString());
        } finally {
            // cleared before looking again: a doubt added meanwhile either is seen here or schedules itself
            settling.set(false);
        }
        if (!doubts.isEmpty()) {
            settleSoon();
        }
    }

    /**
     * Settles every claim this process may hold on the server that no thread holds: a claim whose
     * outcome was unknown is given back, an ack or release that could not be sent is sent again. A
     * doubt that cannot be settled now (ZooKeeper unreachable) stays for the next call; once the
     * session is gone, its claims are gone with it.
     */
    public void reconcileInDoubt() {
        for (Map.Entry<String, Doubt> entry : doubts.entrySet()) {
            Doubt d = entry.getValue();
            if (!d.answered()) {
                continue;
            }
            try {
                settle(d);
            } catch (KeeperException.SessionExpiredException | KeeperException.SessionMovedException sessionGone) {
                // its ephemeral claim went with the session: nothing is stranded
            } catch (KeeperException.ConnectionLossException | KeeperException.OperationTimeoutException
                     | ConnectionLossException e) {
                // ZooKeeper unreachable: the rest waits for the next call
                return;
            } catch (KeeperException.NoAuthException | NotAuthorizedException refused) {
                // not ours to settle any more (the ACL changed): the session's end settles it
                LOG.warn("queue '{}': may not settle task {} ({} in doubt): {}; it is left to the session's end",
                        queueName, d.id(), d.kind(), refused.toString());
            } catch (Exception e) {
                // this doubt alone cannot be settled now: it must not hold up the others
                LOG.info("queue '{}': could not settle task {} ({} in doubt) yet: {}", queueName, d.id(), d.kind(), e.toString());
                continue;
            }
            // a give-back sent while settling replaced this doubt under the same key: that one stays
            doubts.remove(entry.getKey(), d);
        }
    }

    private void settle(Doubt d) throws Exception {
        String claim = layout.claimPath(d.id());
        switch (d.kind()) {
            case CLAIM -> {
                // our claim may have landed with nobody to handle the task: give it back, uncounted
                if (giveBackIfStillOurs(d, claim)) {
                    LOG.info("queue '{}': gave back task {}, claimed by a request whose outcome was unknown", queueName, d.id());
                }
            }
            case ACK -> {
                try {
                    curator.transaction().forOperations(
                            curator.transactionOp().delete().withVersion(d.version()).forPath(layout.taskPath(d.id())),
                            curator.transactionOp().delete().forPath(claim));
                } catch (KeeperException.NoNodeException | KeeperException.BadVersionException settled) {
                    // acknowledged already, or the claim was lost and the task is delivered again
                }
            }
            case RELEASE -> releaseIfStillOurs(d, claim);
            // applied if our claim is gone; if it still holds our token, give back again
            case GIVE_BACK -> giveBackIfStillOurs(d, claim);
            default -> { }
        }
    }

    /**
     * If {@code claim} still holds our token: gives the task back (uncounted) while it is still at
     * the version our claim made, else just drops the claim. True if the claim was still ours.
     */
    private boolean giveBackIfStillOurs(Doubt d, String claim) throws Exception {
        byte[] holder;
        try {
            holder = curator.getData().forPath(claim);
        } catch (KeeperException.NoNodeException gone) {
            return false;
        }
        if (!Arrays.equals(holder, d.token())) {
            return false;
        }
        Stat stat = new Stat();
        byte[] payload;
        try {
            payload = curator.getData().storingStatIn(stat).forPath(layout.taskPath(d.id()));
        } catch (KeeperException.NoNodeException taskGone) {
            curator.delete().quietly().forPath(claim);
            return true;
        }
        if (stat.getVersion() == d.version()) {
            giveBack(d.id(), payload, d.version(), d.token());
        } else {
            curator.delete().quietly().forPath(claim);
        }
        return true;
    }

    /**
     * Deletes {@code claim} if it still holds our token, while the task is still at the version our
     * claim made. Our release may have landed (its reply lost) and another consumer may have
     * claimed the task since: that claim, under the same name, must never be touched.
     */
    private void releaseIfStillOurs(Doubt d, String claim) throws Exception {
        byte[] holder;
        try {
            holder = curator.getData().forPath(claim);
        } catch (KeeperException.NoNodeException released) {
            return;
        }
        if (!Arrays.equals(holder, d.token())) {
            return;
        }
        try {
            curator.transaction().forOperations(
                    curator.transactionOp().check().withVersion(d.version()).forPath(layout.taskPath(d.id())),
                    curator.transactionOp().delete().forPath(claim));
        } catch (KeeperException.NoNodeException | KeeperException.BadVersionException settled) {
            // released already, or the task moved on (acknowledged, or taken by its next claim)
        }
    }

    /** Moves a task to the dead letters; with {@code ourClaim} null, only if nobody holds a claim. */
    private void deadLetter(String id, byte[] payload, int version, long createdMillis, String ourClaim) throws Exception {
        byte[] letter = ByteBuffer.allocate(12 + payload.length).putInt(version).putLong(createdMillis).put(payload).array();
        createIfMissing(layout.deadBucket(id), new byte[0]);
        List<CuratorOp> ops = new ArrayList<>();
        ops.add(curator.transactionOp().create().forPath(layout.deadPath(id), letter));
        ops.add(curator.transactionOp().delete().withVersion(version).forPath(layout.taskPath(id)));
        if (ourClaim != null) {
            ops.add(curator.transactionOp().delete().forPath(ourClaim));
        } else {
            // a claim held by someone would make this create fail: nobody is handling the task
            String claim = layout.claimPath(id);
            ops.add(curator.transactionOp().create().withMode(CreateMode.EPHEMERAL).forPath(claim));
            ops.add(curator.transactionOp().delete().forPath(claim));
        }
        try {
            curator.transaction().forOperations(ops);
            RecipeMetrics.of(zk).queueDead(queueName);
        } catch (KeeperException.NodeExistsException | KeeperException.NoNodeException | KeeperException.BadVersionException raced) {
            // another consumer got there first
        }
    }

    /**
     * Dead letters, oldest first, at most {@code limit}: one listing per dead-letter bucket, never
     * the whole lot at once. Letters of an older layout (flat {@code dead/b..-t-..}) are read too.
     */
    public List<DeadLetter> deadLetters(int limit) {
        try {
            List<String> names;
            try {
                names = new ArrayList<>(curator.getChildren().forPath(layout.dead));
            } catch (KeeperException.NoNodeException noQueueYet) {
                return List.of();
            }
            Collections.sort(names);
            List<DeadLetter> result = new ArrayList<>();
            for (String n : names) {
                if (result.size() >= limit) {
                    break;
                }
                String nodePath = ZKPaths.makePath(layout.dead, n);
                if (n.matches("b\\d{10}")) {
                    List<String> letters;
                    try {
                        letters = Layout.tasksIn(curator.getChildren().forPath(nodePath), nodePath, this::reportForeign);
                    } catch (KeeperException.NoNodeException gone) {
                        continue;
                    }
                    for (String letter : letters) {
                        if (result.size() >= limit) {
                            break;
                        }
                        readDeadLetter(ZKPaths.makePath(nodePath, letter), n + "/" + letter).ifPresent(result::add);
                    }
                } else if (n.matches("b\\d{10}-t-\\d{10}")) {
                    readDeadLetter(nodePath, n.replaceFirst("-", "/")).ifPresent(result::add);
                } else {
                    reportForeign("dead/" + n);
                }
            }
            return result;
        } catch (Exception e) {
            throw ZkErrors.translate(curator, e, "reading the dead letters of queue '" + queueName + "'");
        }
    }

    private Optional<DeadLetter> readDeadLetter(String path, String id) throws Exception {
        try {
            ByteBuffer b = ByteBuffer.wrap(curator.getData().forPath(path));
            if (b.remaining() < 12) {
                reportForeign(path);
                return Optional.empty();
            }
            int attempts = b.getInt();
            long created = b.getLong();
            byte[] payload = new byte[b.remaining()];
            b.get(payload);
            return Optional.of(new DeadLetter(id, payload, attempts, Instant.ofEpochMilli(created)));
        } catch (KeeperException.NoNodeException gone) {
            return Optional.empty();
        }
    }

    /** Deletes one dead letter; true if it was there. */
    public boolean deleteDeadLetter(String id) {
        try {
            try {
                curator.delete().forPath(layout.deadPath(id));
            } catch (KeeperException.NoNodeException notBucketed) {
                // a letter of the older, flat layout
                curator.delete().forPath(layout.dead + "/" + id.replace('/', '-'));
            }
            return true;
        } catch (KeeperException.NoNodeException e) {
            return false;
        } catch (Exception e) {
            throw ZkErrors.translate(curator, e, "deleting dead letter " + id + " of queue '" + queueName + "'");
        }
    }

    /** A task as it sits in the queue: for peek. */
    public record Pending(String id, byte[] payload, int deliveries, boolean claimed) {
    }

    /** Up to {@code limit} tasks in delivery order, without claiming any. Reads only. */
    public List<Pending> peek(int limit) {
        try {
            List<String> buckets;
            Set<String> claimed;
            try {
                buckets = Layout.bucketsIn(curator.getChildren().forPath(layout.tasks), this::reportForeign);
                claimed = new HashSet<>(curator.getChildren().forPath(layout.claims));
            } catch (KeeperException.NoNodeException noQueueYet) {
                return List.of();
            }
            List<Pending> result = new ArrayList<>();
            for (String bucket : buckets) {
                String bucketPath = ZKPaths.makePath(layout.tasks, bucket);
                List<String> tasks;
                try {
                    tasks = Layout.tasksIn(curator.getChildren().forPath(bucketPath), bucketPath, this::reportForeign);
                } catch (KeeperException.NoNodeException gone) {
                    continue;
                }
                for (String task : tasks) {
                    if (result.size() >= limit) {
                        return result;
                    }
                    Stat stat = new Stat();
                    try {
                        byte[] data = curator.getData().storingStatIn(stat).forPath(ZKPaths.makePath(bucketPath, task));
                        result.add(new Pending(bucket + "/" + task, data, stat.getVersion(), claimed.contains(bucket + "-" + task)));
                    } catch (KeeperException.NoNodeException acked) {
                        // acknowledged meanwhile
                    }
                }
            }
            return result;
        } catch (Exception e) {
            throw ZkErrors.translate(curator, e, "peeking into queue '" + queueName + "'");
        }
    }

    /**
     * Deletes every task nobody holds (a claimed task is left to its consumer), each only if no
     * claim exists at the moment of its delete.
     *
     * @return how many were deleted
     */
    public int purge() {
        int purged = 0;
        for (int round = 0; round < 1000; round++) {
            List<Pending> batch = peek(200);
            int before = purged;
            for (Pending p : batch) {
                if (p.claimed()) {
                    continue;
                }
                String claim = layout.claimPath(p.id());
                long retriesBefore = Retries.onThisThread();
                try {
                    curator.transaction().forOperations(
                            curator.transactionOp().create().withMode(CreateMode.EPHEMERAL).forPath(claim),
                            curator.transactionOp().delete().forPath(claim),
                            curator.transactionOp().delete().withVersion(p.deliveries()).forPath(layout.taskPath(p.id())));
                    purged++;
                } catch (KeeperException.NoNodeException gone) {
                    // acknowledged meanwhile -- or, after a retry, almost surely our own delete whose
                    // reply was lost (an unclaimed task is rarely claimed and acked in that moment)
                    if (Retries.since(curator, retriesBefore)) {
                        purged++;
                    }
                } catch (KeeperException.NodeExistsException | KeeperException.BadVersionException taken) {
                    // claimed meanwhile
                } catch (Exception e) {
                    throw ZkErrors.translate(curator, e, "purging queue '" + queueName + "'");
                }
            }
            if (purged == before) {
                return purged;
            }
        }
        return purged;
    }

    /**
     * Puts dead letter {@code id} back into the queue (its payload, as a new task) and deletes the
     * letter, in one transaction.
     *
     * @return the new task's id, or null if there is no such dead letter
     */
    public String requeueDeadLetter(String id) {
        ensureCreated();
        for (int attempt = 0; attempt < 10; attempt++) {
            String letterPath = layout.deadPath(id);
            long retriesBefore = NOT_SENT;
            try {
                byte[] letter;
                try {
                    letter = curator.getData().forPath(letterPath);
                } catch (KeeperException.NoNodeException flat) {
                    letterPath = layout.dead + "/" + id.replace('/', '-');
                    letter = curator.getData().forPath(letterPath);
                }
                ByteBuffer b = ByteBuffer.wrap(letter);
                b.getInt();
                b.getLong();
                byte[] payload = new byte[b.remaining()];
                b.get(payload);
                retriesBefore = Retries.onThisThread();
                List<CuratorTransactionResult> results = curator.transaction().forOperations(
                        curator.transactionOp().create().withMode(CreateMode.PERSISTENT_SEQUENTIAL)
                                .forPath(ZKPaths.makePath(layout.bucket(tailBucket), "t-"), payload),
                        curator.transactionOp().delete().forPath(letterPath));
                return relocateIfOverflowed(results.get(0).getResultPath(), payload);
            } catch (KeeperException.NoNodeException gone) {
                if (!exists(layout.deadPath(id)) && !exists(layout.dead + "/" + id.replace('/', '-'))) {
                    if (retriesBefore != NOT_SENT && Retries.since(curator, retriesBefore)) {
                        throw new ConnectionLossException("requeueing dead letter " + id + " of queue '" + queueName
                                + "': the connection was lost and the retried request found the letter gone, so the"
                                + " first request may have requeued it (outcome unknown); look at peek() before"
                                + " requeueing again", gone);
                    }
                    return null;
                }
                try {
                    refreshTail(tailBucket);
                } catch (Exception e) {
                    throw ZkErrors.translate(curator, e, "requeueing dead letter " + id + " of queue '" + queueName + "'");
                }
            } catch (Exception e) {
                throw ZkErrors.translate(curator, e, "requeueing dead letter " + id + " of queue '" + queueName + "'");
            }
        }
        throw new VersionConflictException("queue '" + queueName + "' kept moving its tail while"
                + " requeueing dead letter " + id + "; retry");
    }

    /** Deletes the whole queue: tasks, claims, dead letters. Consumers holding claims then lose them. */
    public boolean deleteQueue() {
        long retriesBefore = Retries.onThisThread();
        try {
            curator.delete().guaranteed().deletingChildrenIfNeeded().forPath(layout.base);
            tailBucket = -1;
            return true;
        } catch (KeeperException.NoNodeException none) {
            if (Retries.since(curator, retriesBefore)) {
                throw new ConnectionLossException("deleting queue '" + queueName + "': the connection was lost and the"
                        + " retried request found nothing, so this call may have deleted it (outcome unknown); the"
                        + " queue does not exist now", none);
            }
            return false;
        } catch (Exception e) {
            throw ZkErrors.translate(curator, e, "deleting queue '" + queueName + "'");
        }
    }

    /** Tasks not yet acknowledged (claimed ones included): one read per bucket, sent together. */
    public long size() {
        try {
            List<String> buckets = buckets();
            long total = 0;
            List<CompletableFuture<Integer>> counts = new ArrayList<>();
            for (String bucket : buckets) {
                CompletableFuture<Integer> f = new CompletableFuture<>();
                curator.checkExists().inBackground((c, e) -> {
                    if (e.getResultCode() == KeeperException.Code.OK.intValue()) {
                        f.complete(e.getStat().getNumChildren());
                    } else if (e.getResultCode() == KeeperException.Code.NONODE.intValue()) {
                        f.complete(0); // drained and removed meanwhile
                    } else {
                        // a failed read is not an empty bucket
                        f.completeExceptionally(KeeperException.create(KeeperException.Code.get(e.getResultCode()), e.getPath()));
                    }
                }).forPath(ZKPaths.makePath(layout.tasks, bucket));
                counts.add(f);
            }
            for (CompletableFuture<Integer> f : counts) {
                try {
                    total += f.get(30, TimeUnit.SECONDS);
                } catch (ExecutionException failed) {
                    throw failed.getCause() instanceof Exception cause ? cause : failed;
                }
            }
            return total;
        } catch (Exception e) {
            throw ZkErrors.translate(curator, e, "counting queue '" + queueName + "'");
        }
    }

    /** The largest bucket's child count: what the layout keeps far below jute.maxbuffer. */
    public int largestBucket() {
        try {
            int largest = 0;
            List<String> buckets = buckets();
            for (String bucket : buckets) {
                Stat s = curator.checkExists().forPath(ZKPaths.makePath(layout.tasks, bucket));
                largest = Math.max(largest, s == null ? 0 : s.getNumChildren());
            }
            return largest;
        } catch (Exception e) {
            throw ZkErrors.translate(curator, e, "reading queue '" + queueName + "'");
        }
    }

    // ---- the idle line ----

    /**
     * The connection changed: a watch may have died with the session and the waiter node with it,
     * so the idle consumers re-arm (and re-join the line) instead of sleeping until their timeout;
     * claims in doubt get another chance to settle.
     */
    public void connectionChanged() {
        synchronized (lineLock) {
            armed = false;
            if (Sessions.hasMovedOn(curator, waiterSession)) {
                waiterNode = null;
            }
        }
        signals.release(Math.max(1, waiting));
    }

    /** Wakes every local consumer waiting for work (a subscription closing). */
    public void wakeIdle() {
        signals.release(Math.max(1, waiting) + 16);
    }

    /**
     * Waits (up to {@code nanos}) for a sign of work. The first idle consumer in line watches the
     * tail bucket, the claims and the tail pointer; every other one watches the consumer ahead.
     */
    private void awaitWork(long nanos, BooleanSupplier stop, Deadline io) throws InterruptedException {
        boolean arm;
        synchronized (lineLock) {
            waiting++;
            arm = !armed;
            armed = true;
        }
        try {
            if (arm) {
                signals.drainPermits();
                boolean workVisible;
                try {
                    workVisible = armWatch(io, event -> {
                        if (event.getType() != Watcher.Event.EventType.None) {
                            synchronized (lineLock) {
                                armed = false;
                            }
                            signals.release();
                        }
                    });
                } catch (RuntimeException e) {
                    synchronized (lineLock) {
                        armed = false;
                    }
                    throw e;
                }
                if (workVisible) {
                    synchronized (lineLock) {
                        armed = false;
                    }
                    return;
                }
            }
            // a stop that came while the watch was being set (its wake-up drained with the old ones)
            if (stop.getAsBoolean()) {
                return;
            }
            // In slices: the thread that arms the watch drains old wake-ups, and may drain the one a
            // closing subscription gave the others; a slice later they see the stop themselves.
            long until = System.nanoTime() + nanos;
            while (!stop.getAsBoolean()) {
                long left = until - System.nanoTime();
                if (left <= 0 || signals.tryAcquire(Math.min(left, STOP_CHECK_NANOS), TimeUnit.NANOSECONDS)) {
                    return;
                }
            }
        } finally {
            synchronized (lineLock) {
                waiting--;
            }
        }
    }

    /** Joins the line if needed and sets this consumer's watch; true if work is visible already. */
    private boolean armWatch(Deadline io, Watcher wake) throws InterruptedException {
        try {
            String mine;
            synchronized (lineLock) {
                if (waiterNode == null || Sessions.hasMovedOn(curator, waiterSession)) {
                    // protected: a lost reply must not leave an orphan of ours at the head of the line
                    CompletableFuture<CuratorEvent> create = Background.send(cb -> curator.create()
                            .creatingParentContainersIfNeeded().withProtection().withMode(CreateMode.EPHEMERAL_SEQUENTIAL)
                            .inBackground(cb).forPath(ZKPaths.makePath(layout.waiters, "w-")));
                    CuratorEvent made;
                    try {
                        made = Background.succeeded(Background.await(io, create));
                    } catch (TimeoutException | InterruptedException gaveUp) {
                        // a waiter node that lands after we stopped waiting must not stand in line for nobody
                        Background.deleteWhenCreated(curator, create);
                        throw gaveUp;
                    }
                    waiterNode = made.getName();
                    Stat stat = made.getStat();
                    waiterSession = stat != null && stat.getEphemeralOwner() != 0 ? stat.getEphemeralOwner()
                            : Sessions.currentSessionId(curator);
                }
                mine = ZKPaths.getNodeFromPath(waiterNode);
            }
            List<String> line = SequentialNodes.sortedProtected(children(io, layout.waiters), "w-");
            int index = line.indexOf(mine);
            if (index > 0) {
                try {
                    data(io, ZKPaths.makePath(layout.waiters, line.get(index - 1)), wake);
                    return false;
                } catch (KeeperException.NoNodeException ahead) {
                    return true;
                }
            }
            // first in line: watch where work appears (a queue nobody has put into yet: its tail)
            if (!exists(io, layout.tail, wake)) {
                return false;
            }
            long tail = Math.max(tailBucket, parseTail(data(io, layout.tail, wake)));
            tailBucket = tail;
            Set<String> claimed;
            try {
                claimed = new HashSet<>(children(io, layout.claims, wake));
            } catch (KeeperException.NoNodeException settingUp) {
                return true;
            }
            for (long b = Math.max(0, tail - 1); b <= tail; b++) {
                try {
                    String bucketPath = layout.bucket(b);
                    List<String> children = children(io, bucketPath, wake);
                    // only our tasks are work: a foreign node here must not keep idle consumers spinning
                    for (String child : Layout.tasksIn(children, bucketPath, this::reportForeign)) {
                        if (!claimed.contains(Layout.bucketName(b) + "-" + child)) {
                            return true;
                        }
                    }
                } catch (KeeperException.NoNodeException notThere) {
                    // drained, or not made yet: its creation must wake us too
                    if (exists(io, layout.bucket(b), wake)) {
                        return true;
                    }
                }
            }
            return false;
        } catch (Exception e) {
            throw ZkErrors.translate(curator, e, "waiting on queue '" + queueName + "'");
        }
    }

    private void leaveLineIfIdle() {
        String leaving = null;
        // stay in line while any local consumer is still after a task: leaving wakes the one behind
        synchronized (lineLock) {
            claimers--;
            if (claimers == 0) {
                curator.getConnectionStateListenable().removeListener(connectionListener);
            }
            if (claimers == 0 && waiterNode != null) {
                leaving = waiterNode;
                waiterNode = null;
                armed = false;
            }
        }
        if (leaving != null) {
            try {
                curator.delete().quietly().forPath(leaving);
            } catch (Exception ignored) {
                // the session's end removes it
            }
        }
    }
}
