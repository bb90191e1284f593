package dev.zkrecipes.queue.internal;

import dev.zkrecipes.queue.QueueFullException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * A queue's optional bound on pending tasks, checked before a put is sent.
 *
 * <p>Counting a queue costs two round trips, so a producer does not count before every put: after
 * a count it may put up to a sixteenth of the room it saw before counting again, and it counts at
 * least every second; close to the bound every put counts. Producers that count at the same
 * moment may each take the last room: the queue can pass the bound by one put per producer racing
 * (more only with over sixteen producers far from the bound).
 */
public final class Capacity {
    private static final long RECOUNT_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long MAX_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

    private final String queueName;
    private final long capacity;
    private final Duration waitForRoom;
    private final LongSupplier count;

    // what this producer may still put before it counts again; guarded by this
    private long allowance;
    private long countedAt;

    public Capacity(String queueName, long capacity, Duration waitForRoom, LongSupplier count) {
        this.queueName = queueName;
        this.capacity = capacity;
        this.waitForRoom = waitForRoom;
        this.count = count;
    }

    /**
     * Returns once {@code tasks} more fit, waiting up to the configured time for consumers to make
     * room; throws {@link QueueFullException} if they never do.
     */
    public void admit(int tasks) {
        if (tasks > capacity) {
            throw new IllegalArgumentException(tasks + " tasks can never fit in queue '" + queueName + "' of capacity "
                    + capacity + "; split the batch");
        }
        long deadline = System.nanoTime() + waitForRoom.toNanos();
        long pause = TimeUnit.MILLISECONDS.toNanos(10);
        while (!takeFromAllowance(tasks)) {
            long pending = count.getAsLong();
            if (grantAfterCount(capacity - pending, tasks)) {
                return;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new QueueFullException("queue '" + queueName + "' is full: " + pending + " tasks pending, capacity "
                        + capacity + (waitForRoom.isZero() ? "" : ", and no room came within " + waitForRoom)
                        + "; nothing was put. Retry later, add consumers, or raise the capacity");
            }
            LockSupport.parkNanos(Math.min(left, pause));
            if (Thread.currentThread().isInterrupted()) {
                throw new QueueFullException("interrupted while waiting for room in queue '" + queueName
                        + "'; nothing was put (the thread's interrupt flag is kept)");
            }
            pause = Math.min(MAX_PAUSE_NANOS, pause * 2);
        }
    }

    private synchronized boolean takeFromAllowance(int tasks) {
        if (allowance >= tasks && System.nanoTime() - countedAt < RECOUNT_NANOS) {
            allowance -= tasks;
            return true;
        }
        return false;
    }

    private synchronized boolean grantAfterCount(long room, int tasks) {
        countedAt = System.nanoTime();
        if (room < tasks) {
            allowance = 0;
            return false;
        }
        allowance = Math.max(tasks, room / 16) - tasks;
        return true;
    }
}
