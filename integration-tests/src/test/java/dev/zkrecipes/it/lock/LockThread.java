package dev.zkrecipes.it.lock;

import dev.zkrecipes.lock.LockHandle;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * One thread of its own that takes a lock and keeps it until told, then releases it: lock handles
 * are closed by the thread that acquired them.
 */
final class LockThread implements AutoCloseable {

    final CompletableFuture<LockHandle> acquired = new CompletableFuture<>();
    final CompletableFuture<Void> released = new CompletableFuture<>();
    private final CountDownLatch release = new CountDownLatch(1);
    private final Thread thread;

    LockThread(String label, Callable<LockHandle> acquire) {
        thread = new Thread(() -> {
            LockHandle h;
            try {
                h = acquire.call();
            } catch (Throwable e) {
                acquired.completeExceptionally(e);
                return;
            }
            acquired.complete(h);
            try {
                release.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                try {
                    h.close();
                    released.complete(null);
                } catch (Throwable e) {
                    released.completeExceptionally(e);
                }
            }
        }, "lock-thread-" + label);
        thread.setDaemon(true);
        thread.start();
    }

    /** The handle once acquired, waiting up to {@code timeout}. */
    LockHandle handle(Duration timeout) throws Exception {
        return acquired.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Tells the thread to release, and waits up to {@code timeout} until it did. */
    void releaseAndWait(Duration timeout) throws Exception {
        release.countDown();
        released.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        release.countDown();
        thread.interrupt();
        thread.join(5000);
    }
}
