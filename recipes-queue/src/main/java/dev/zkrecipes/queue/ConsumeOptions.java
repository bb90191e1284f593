package dev.zkrecipes.queue;

import java.time.Duration;

/**
 * How {@link TaskQueue#consume} runs handlers.
 *
 * @param concurrency how many handlers run at once (each on its own thread)
 * @param pollTimeout how long an idle handler thread waits in one poll; it also wakes on every sign
 *        of work, and at once on close, so a long one costs nothing
 */
public record ConsumeOptions(int concurrency, Duration pollTimeout) {

    public ConsumeOptions {
        if (concurrency < 1) {
            throw new IllegalArgumentException("concurrency must be at least 1, got " + concurrency);
        }
        if (pollTimeout == null || pollTimeout.isNegative() || pollTimeout.isZero()) {
            throw new IllegalArgumentException("pollTimeout must be positive, got " + pollTimeout);
        }
    }

    /** One handler at a time. */
    public static ConsumeOptions defaults() {
        return new ConsumeOptions(1, Duration.ofSeconds(30));
    }

    /** {@code n} handlers at a time. */
    public static ConsumeOptions concurrency(int n) {
        return new ConsumeOptions(n, Duration.ofSeconds(30));
    }
}
