package dev.zkrecipes.core.internal;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.curator.framework.CuratorFramework;

/**
 * The moment a timed call must return by. Every wait of a timed call goes through one deadline, so
 * that the sum of its waits (a create, reads, wake-ups) never exceeds the caller's timeout, whether
 * ZooKeeper answers or not.
 */
public final class Deadline {

    private static final Deadline NEVER = new Deadline(Long.MAX_VALUE);

    private final long atNanos;

    private Deadline(long atNanos) {
        this.atNanos = atNanos;
    }

    /** A deadline {@code timeout} from now. */
    public static Deadline after(Duration timeout) {
        long nanos;
        try {
            nanos = timeout.toNanos();
        } catch (ArithmeticException beyondNanos) {
            // some 292 years or more: as good as never, and never negative
            return timeout.isNegative() ? afterNanos(0) : NEVER;
        }
        return afterNanos(nanos);
    }

    /** A deadline {@code nanos} from now; negative means {@link #never()}. */
    public static Deadline afterNanos(long nanos) {
        if (nanos < 0) {
            return NEVER;
        }
        long now = System.nanoTime();
        long at = now + nanos;
        return new Deadline(at < now ? Long.MAX_VALUE : at);
    }

    /**
     * The bound on a closing call (release, resign, close) that waits for ZooKeeper: the client's
     * connection timeout, 5 s by default. Past it the call returns and Curator finishes the work in
     * the background.
     */
    public static Deadline forClosing(CuratorFramework curator) {
        return afterNanos(TimeUnit.MILLISECONDS.toNanos(curator.getZookeeperClient().getConnectionTimeoutMs()));
    }

    /** No deadline: waits end only when what they wait for happens. */
    public static Deadline never() {
        return NEVER;
    }

    public boolean isNever() {
        return atNanos == Long.MAX_VALUE;
    }

    /** Nanoseconds left, 0 once passed; {@link Long#MAX_VALUE} for {@link #never()}. */
    public long remainingNanos() {
        if (isNever()) {
            return Long.MAX_VALUE;
        }
        return Math.max(0, atNanos - System.nanoTime());
    }

    public boolean isExpired() {
        return remainingNanos() == 0;
    }

    /** This deadline moved {@code nanos} later ({@link #never()} stays never). */
    public Deadline extendedBy(long nanos) {
        if (isNever()) {
            return this;
        }
        long at = atNanos + nanos;
        return new Deadline(at < atNanos ? Long.MAX_VALUE : at);
    }

    /** The earlier of this deadline and {@code other}. */
    public Deadline min(Deadline other) {
        return atNanos <= other.atNanos ? this : other;
    }

    /**
     * Waits for {@code future} until this deadline.
     *
     * @throws TimeoutException if the deadline passed first (the future goes on)
     * @throws ExecutionException if the future failed
     */
    public <T> T await(CompletableFuture<T> future) throws InterruptedException, TimeoutException, ExecutionException {
        if (isNever()) {
            return future.get();
        }
        return future.get(remainingNanos(), TimeUnit.NANOSECONDS);
    }

    @Override
    public String toString() {
        return isNever() ? "Deadline[never]" : "Deadline[in " + TimeUnit.NANOSECONDS.toMillis(remainingNanos()) + " ms]";
    }
}
