package dev.zkrecipes.queue.internal;

import dev.zkrecipes.core.LeadershipLostException;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.core.internal.PayloadLimit;
import dev.zkrecipes.core.internal.SequentialNodes;
import dev.zkrecipes.core.internal.ZkErrors;
import dev.zkrecipes.queue.DeadLetter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.data.Stat;

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

    /** A claimed task: where it is, what it holds, and the version our claim gave it. */
    public record Claimed(String id, byte[] payload, int version, long createdMillis) {
    }

    private final ZkRecipes zk;
    private final CuratorFramework curator;
    private final String queueName;
    private final Layout layout;
    private final int bucketSize;
    private final int maxAttempts;

    private volatile long tailBucket = -1;

    // what this consumer believes is claimable, oldest first; guarded by this
    private final Deque<String> candidates = new ArrayDeque<>();

    // the idle line; guarded by lineLock
    private final Object lineLock = new Object();
    private String waiterNode;
    private int waiting;
    private int claimers;
    private boolean armed;
    // one permit a sign of work: wakes one local waiter, who claims and so wakes the next
    private final java.util.concurrent.Semaphore signals = new java.util.concurrent.Semaphore(0);

    public QueueEngine(ZkRecipes zk, String queueName, String basePath, int bucketSize, int maxAttempts) {
        this.zk = zk;
        this.curator = zk.curator();
        this.queueName = queueName;
        this.layout = new Layout(basePath);
        this.bucketSize = bucketSize;
        this.maxAttempts = maxAttempts;
    }

    /** Creates the queue's nodes if they are missing; idempotent. */
    public void init() {
        try {
            for (String path : List.of(layout.tasks, layout.claims, layout.dead, layout.waiters)) {
                createIfMissing(path, new byte[0]);
            }
            createIfMissing(layout.tail, "0".getBytes(StandardCharsets.US_ASCII));
            tailBucket = readTail();
            createIfMissing(layout.bucket(tailBucket), new byte[0]);
        } catch (Exception e) {
            throw ZkErrors.translate(e, "setting up queue '" + queueName + "'");
        }
    }

    private void createIfMissing(String path, byte[] data) throws Exception {
        try {
            curator.create().creatingParentContainersIfNeeded().forPath(path, data);
        } catch (KeeperException.NodeExistsException exists) {
            // made before
        }
    }

    private long readTail() throws Exception {
        return Long.parseLong(new String(curator.getData().forPath(layout.tail), StandardCharsets.US_ASCII).trim());
    }

    // ---- producers ----

    /** Puts every payload in one transaction into the tail bucket; returns their ids, in order. */
    public List<String> put(List<byte[]> payloads) {
        long total = 0;
        for (byte[] p : payloads) {
            total += p.length + 64;
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
                for (String p : paths) {
                    ids.add(layout.taskId(p));
                }
                return ids;
            } catch (KeeperException.NoNodeException bucketGone) {
                // the bucket was drained and removed, or not made yet: find the tail again
                try {
                    refreshTail(bucket);
                } catch (Exception e) {
                    throw ZkErrors.translate(e, "putting into queue '" + queueName + "'");
                }
                if (attempt > 20) {
                    throw ZkErrors.translate(bucketGone, "putting into queue '" + queueName + "'");
                }
            } catch (Exception e) {
                throw ZkErrors.translate(e, "putting into queue '" + queueName + "'");
            }
        }
    }

    /**
     * Puts one task without waiting: the create is sent at once and the future completes with the
     * task's id when ZooKeeper confirms it. Many puts in flight share the round trips.
     */
    public java.util.concurrent.CompletableFuture<String> putAsync(byte[] payload) {
        PayloadLimit.check(zk, payload.length + 64L, "task of queue '" + queueName + "'");
        java.util.concurrent.CompletableFuture<String> result = new java.util.concurrent.CompletableFuture<>();
        long bucket;
        try {
            bucket = bucketForNextAsyncPut();
        } catch (Exception e) {
            result.completeExceptionally(ZkErrors.translate(e, "putting into queue '" + queueName + "'"));
            return result;
        }
        try {
            curator.create().withMode(CreateMode.PERSISTENT_SEQUENTIAL).inBackground((client, event) -> {
                if (event.getResultCode() == KeeperException.Code.OK.intValue()) {
                    String path = event.getName();
                    result.complete(layout.taskId(path));
                    if (SequentialNodes.sequence(ZKPaths.getNodeFromPath(path)) + 1 >= bucketSize && bucket == tailBucket
                            && advancing.compareAndSet(bucket, bucket + 1)) {
                        // exactly one put sees the bucket fill up: it moves the tail, off the event thread
                        java.util.concurrent.CompletableFuture.runAsync(() -> {
                            try {
                                advanceTail(bucket);
                            } catch (Exception e) {
                                // the next put that finds the bucket gone moves the tail
                            }
                        });
                    }
                } else {
                    // the bucket is gone or the connection failed: do it the patient way, off the event thread
                    java.util.concurrent.CompletableFuture.supplyAsync(() -> put(List.of(payload)).get(0))
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
            result.completeExceptionally(ZkErrors.translate(e, "putting into queue '" + queueName + "'"));
        }
        return result;
    }

    // puts sent without waiting, per bucket: a pipelined producer moves on after bucketSize of them,
    // before any reply could tell it the bucket is full; guarded by asyncPuts
    private final Object asyncPuts = new Object();
    private long asyncBucket = -1;
    private int asyncSent;
    private final java.util.concurrent.atomic.AtomicLong advancing = new java.util.concurrent.atomic.AtomicLong(-1);

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

    /** Moves producers on from a full bucket: the next bucket is made first, then the tail points at it. */
    private void advanceTail(long full) throws Exception {
        createIfMissing(layout.bucket(full + 1), new byte[0]);
        Stat stat = new Stat();
        long current = Long.parseLong(new String(curator.getData().storingStatIn(stat).forPath(layout.tail),
                StandardCharsets.US_ASCII).trim());
        if (current == full) {
            try {
                curator.setData().withVersion(stat.getVersion()).forPath(layout.tail,
                        Long.toString(full + 1).getBytes(StandardCharsets.US_ASCII));
                current = full + 1;
            } catch (KeeperException.BadVersionException raced) {
                current = readTail();
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
        synchronized (lineLock) {
            claimers++;
        }
        try {
            return claimOrTimeOut(timeoutNanos);
        } finally {
            leaveLineIfIdle();
        }
    }

    private Claimed claimOrTimeOut(long timeoutNanos) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutNanos;
        while (true) {
            String path = nextCandidate();
            if (path == null) {
                if (!refill()) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return null;
                    }
                    awaitWork(left);
                }
                continue;
            }
            Claimed claimed = tryClaim(path);
            if (claimed != null) {
                return claimed;
            }
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
        }
    }

    private synchronized String nextCandidate() {
        return candidates.pollFirst();
    }

    /** Puts a released task back at the front of this consumer's line. */
    private synchronized void pushFront(String path) {
        candidates.addFirst(path);
    }

    /** Reads the oldest buckets that hold unclaimed tasks into {@code candidates}; false if none. */
    private boolean refill() {
        try {
            // a process that only consumes learns where producers are from the tail node
            tailBucket = Math.max(tailBucket, readTail());
            List<String> buckets = new ArrayList<>(curator.getChildren().forPath(layout.tasks));
            Collections.sort(buckets);
            Set<String> claimed = new HashSet<>(curator.getChildren().forPath(layout.claims));
            List<String> found = new ArrayList<>();
            for (String bucket : buckets) {
                String bucketPath = ZKPaths.makePath(layout.tasks, bucket);
                List<String> children;
                try {
                    children = SequentialNodes.sorted(curator.getChildren().forPath(bucketPath));
                } catch (KeeperException.NoNodeException gone) {
                    continue;
                }
                if (children.isEmpty()) {
                    removeIfDrained(bucket, bucketPath);
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
            throw ZkErrors.translate(e, "reading queue '" + queueName + "'");
        }
    }

    /** An empty bucket behind the tail will never fill again: remove it so the bucket list stays short. */
    private void removeIfDrained(String bucket, String bucketPath) throws Exception {
        if (Layout.bucketNumber(bucket) < tailBucket) {
            try {
                curator.delete().forPath(bucketPath);
            } catch (KeeperException.NotEmptyException | KeeperException.NoNodeException raced) {
                // a late producer wrote into it, or another consumer removed it
            }
        }
    }

    /**
     * One transaction: the task still at the version we read (bumped: one more delivery) and our
     * ephemeral claim created. A task out of attempts goes to the dead letters instead.
     */
    private Claimed tryClaim(String path) {
        String id = layout.taskId(path);
        try {
            Stat stat = new Stat();
            byte[] payload = curator.getData().storingStatIn(stat).forPath(path);
            if (stat.getVersion() >= maxAttempts) {
                deadLetter(id, payload, stat.getVersion(), stat.getCtime(), null);
                return null;
            }
            curator.transaction().forOperations(
                    curator.transactionOp().setData().withVersion(stat.getVersion()).forPath(path, payload),
                    curator.transactionOp().create().withMode(CreateMode.EPHEMERAL).forPath(layout.claimPath(id)));
            return new Claimed(id, payload, stat.getVersion() + 1, stat.getCtime());
        } catch (KeeperException.NoNodeException | KeeperException.NodeExistsException | KeeperException.BadVersionException taken) {
            // acknowledged, or claimed by another consumer: skip a few ahead so consumers spread out
            skipAhead();
            return null;
        } catch (Exception e) {
            throw ZkErrors.translate(e, "claiming task " + id + " of queue '" + queueName + "'");
        }
    }

    private synchronized void skipAhead() {
        int skip = ThreadLocalRandom.current().nextInt(Math.min(8, candidates.size() + 1));
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
        } catch (KeeperException.NoNodeException | KeeperException.BadVersionException lost) {
            throw new LeadershipLostException("the claim on task " + task.id() + " of queue '" + queueName
                    + "' was lost (its session expired); the task was not acknowledged and is delivered again", lost);
        } catch (Exception e) {
            throw ZkErrors.translate(e, "acknowledging task " + task.id() + " of queue '" + queueName + "'");
        }
    }

    /**
     * Acknowledges without waiting: the transaction is sent and {@code whenDone} runs with null on
     * success or the failure (on ZooKeeper's event thread: keep it short).
     */
    public void ackAsync(Claimed task, java.util.function.Consumer<RuntimeException> whenDone) {
        try {
            curator.transaction().inBackground((client, event) -> {
                if (event.getResultCode() == KeeperException.Code.OK.intValue()) {
                    whenDone.accept(null);
                } else {
                    KeeperException.Code code = KeeperException.Code.get(event.getResultCode());
                    whenDone.accept(code == KeeperException.Code.NONODE || code == KeeperException.Code.BADVERSION
                            ? new LeadershipLostException("the claim on task " + task.id() + " of queue '" + queueName
                                    + "' was lost; the task was not acknowledged and is delivered again")
                            : ZkErrors.translate(KeeperException.create(code), "acknowledging task " + task.id()));
                }
            }).forOperations(
                    curator.transactionOp().delete().withVersion(task.version()).forPath(layout.taskPath(task.id())),
                    curator.transactionOp().delete().forPath(layout.claimPath(task.id())));
        } catch (Exception e) {
            whenDone.accept(ZkErrors.translate(e, "acknowledging task " + task.id() + " of queue '" + queueName + "'"));
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
            // the claim was lost already: the task is someone else's now
        } catch (Exception e) {
            throw ZkErrors.translate(e, "releasing task " + task.id() + " of queue '" + queueName + "'");
        }
    }

    /** Moves a task to the dead letters; with {@code ourClaim} null, only if nobody holds a claim. */
    private void deadLetter(String id, byte[] payload, int version, long createdMillis, String ourClaim) throws Exception {
        byte[] letter = ByteBuffer.allocate(12 + payload.length).putInt(version).putLong(createdMillis).put(payload).array();
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
        } catch (KeeperException.NodeExistsException | KeeperException.NoNodeException | KeeperException.BadVersionException raced) {
            // another consumer got there first
        }
    }

    /** Dead letters, oldest first, at most {@code limit}. */
    public List<DeadLetter> deadLetters(int limit) {
        try {
            List<String> names = new ArrayList<>(curator.getChildren().forPath(layout.dead));
            Collections.sort(names);
            List<DeadLetter> result = new ArrayList<>();
            for (String n : names.subList(0, Math.min(limit, names.size()))) {
                try {
                    ByteBuffer b = ByteBuffer.wrap(curator.getData().forPath(ZKPaths.makePath(layout.dead, n)));
                    int attempts = b.getInt();
                    long created = b.getLong();
                    byte[] payload = new byte[b.remaining()];
                    b.get(payload);
                    result.add(new DeadLetter(n.replaceFirst("-", "/"), payload, attempts, Instant.ofEpochMilli(created)));
                } catch (KeeperException.NoNodeException gone) {
                    // deleted meanwhile
                }
            }
            return result;
        } catch (Exception e) {
            throw ZkErrors.translate(e, "reading the dead letters of queue '" + queueName + "'");
        }
    }

    /** Deletes one dead letter; true if it was there. */
    public boolean deleteDeadLetter(String id) {
        try {
            curator.delete().forPath(layout.deadPath(id));
            return true;
        } catch (KeeperException.NoNodeException e) {
            return false;
        } catch (Exception e) {
            throw ZkErrors.translate(e, "deleting dead letter " + id + " of queue '" + queueName + "'");
        }
    }

    /** Tasks not yet acknowledged (claimed ones included): one read per bucket, sent together. */
    public long size() {
        try {
            List<String> buckets = curator.getChildren().forPath(layout.tasks);
            long total = 0;
            List<java.util.concurrent.CompletableFuture<Integer>> counts = new ArrayList<>();
            for (String bucket : buckets) {
                java.util.concurrent.CompletableFuture<Integer> f = new java.util.concurrent.CompletableFuture<>();
                curator.checkExists().inBackground((c, e) -> f.complete(e.getStat() == null ? 0 : e.getStat().getNumChildren()))
                        .forPath(ZKPaths.makePath(layout.tasks, bucket));
                counts.add(f);
            }
            for (java.util.concurrent.CompletableFuture<Integer> f : counts) {
                total += f.get(30, TimeUnit.SECONDS);
            }
            return total;
        } catch (Exception e) {
            throw ZkErrors.translate(e, "counting queue '" + queueName + "'");
        }
    }

    /** The largest bucket's child count: what the layout keeps far below jute.maxbuffer. */
    public int largestBucket() {
        try {
            int largest = 0;
            for (String bucket : curator.getChildren().forPath(layout.tasks)) {
                Stat s = curator.checkExists().forPath(ZKPaths.makePath(layout.tasks, bucket));
                largest = Math.max(largest, s == null ? 0 : s.getNumChildren());
            }
            return largest;
        } catch (Exception e) {
            throw ZkErrors.translate(e, "reading queue '" + queueName + "'");
        }
    }

    // ---- the idle line ----

    /**
     * Waits (up to {@code nanos}) for a sign of work. The first idle consumer in line watches the
     * tail bucket, the claims and the tail pointer; every other one watches the consumer ahead.
     */
    private void awaitWork(long nanos) throws InterruptedException {
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
                    workVisible = armWatch(event -> {
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
            signals.tryAcquire(nanos, TimeUnit.NANOSECONDS);
        } finally {
            synchronized (lineLock) {
                waiting--;
            }
        }
    }

    /** Joins the line if needed and sets this consumer's watch; true if work is visible already. */
    private boolean armWatch(Watcher wake) throws InterruptedException {
        try {
            String mine;
            synchronized (lineLock) {
                if (waiterNode == null) {
                    waiterNode = curator.create().withMode(CreateMode.EPHEMERAL_SEQUENTIAL)
                            .forPath(ZKPaths.makePath(layout.waiters, "w-"));
                }
                mine = ZKPaths.getNodeFromPath(waiterNode);
            }
            List<String> line = SequentialNodes.sorted(curator.getChildren().forPath(layout.waiters));
            int index = line.indexOf(mine);
            if (index > 0) {
                try {
                    curator.getData().usingWatcher(wake).forPath(ZKPaths.makePath(layout.waiters, line.get(index - 1)));
                    return false;
                } catch (KeeperException.NoNodeException ahead) {
                    return true;
                }
            }
            // first in line: watch where work appears
            long tail = Math.max(tailBucket, Long.parseLong(new String(curator.getData().usingWatcher(wake).forPath(layout.tail),
                    StandardCharsets.US_ASCII).trim()));
            tailBucket = tail;
            Set<String> claimed = new HashSet<>(curator.getChildren().usingWatcher(wake).forPath(layout.claims));
            for (long b = Math.max(0, tail - 1); b <= tail; b++) {
                try {
                    for (String child : curator.getChildren().usingWatcher(wake).forPath(layout.bucket(b))) {
                        if (!claimed.contains(Layout.bucketName(b) + "-" + child)) {
                            return true;
                        }
                    }
                } catch (KeeperException.NoNodeException gone) {
                    // drained
                }
            }
            return false;
        } catch (Exception e) {
            throw ZkErrors.translate(e, "waiting on queue '" + queueName + "'");
        }
    }

    private void leaveLineIfIdle() {
        String leaving = null;
        // stay in line while any local consumer is still after a task: leaving wakes the one behind
        synchronized (lineLock) {
            claimers--;
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
