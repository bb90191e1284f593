package dev.zkrecipes.core.internal;

import org.apache.curator.RetryPolicy;
import org.apache.curator.RetrySleeper;
import org.apache.curator.framework.CuratorFramework;

/**
 * Tells a caller whether Curator retried its synchronous operation: the one way to know that a
 * "no node" or "bad version" answer may be the retry of our own request, applied the first time
 * with its reply lost. Curator asks the retry policy before each retry on the calling thread, so a
 * wrapping policy counts retries per thread.
 *
 * <pre>{@code
 * long before = Retries.onThisThread();
 * ... curator.transaction().forOperations(...) fails with NoNode ...
 * if (Retries.since(curator, before)) { outcome unknown: our first attempt may have applied }
 * }</pre>
 */
public final class Retries {

    private static final ThreadLocal<long[]> COUNT = ThreadLocal.withInitial(() -> new long[1]);

    private Retries() {
    }

    /** {@code policy}, counting the retries it allows on each thread. */
    public static RetryPolicy tracking(RetryPolicy policy) {
        return new Tracking(policy);
    }

    /** Retries allowed on this thread so far: compare before and after an operation. */
    public static long onThisThread() {
        return COUNT.get()[0];
    }

    /**
     * True if the client may have retried an operation on this thread since {@code before}: it did,
     * or the client's policy is not ours (a wrapped client) and nobody can tell.
     */
    public static boolean since(CuratorFramework curator, long before) {
        return !(curator.getZookeeperClient().getRetryPolicy() instanceof Tracking) || onThisThread() != before;
    }

    private static final class Tracking implements RetryPolicy {
        private final RetryPolicy delegate;

        Tracking(RetryPolicy delegate) {
            this.delegate = delegate;
        }

        @Override
        public boolean allowRetry(int retryCount, long elapsedTimeMs, RetrySleeper sleeper) {
            boolean allowed = delegate.allowRetry(retryCount, elapsedTimeMs, sleeper);
            if (allowed) {
                COUNT.get()[0]++;
            }
            return allowed;
        }

        @Override
        public boolean allowRetry(Throwable exception) {
            return delegate.allowRetry(exception);
        }

        @Override
        public String toString() {
            return delegate.toString();
        }
    }
}
