package dev.zkrecipes.core.internal;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * At most one daemon thread that runs a recipe's tasks (listener callbacks, or its own state
 * machine) in submission order, off ZooKeeper's event thread. A task that throws is logged and does
 * not stop the ones after it. The thread ends after a few idle seconds and comes back with the next
 * task, so objects that are rarely told anything (a lock with a listener) keep no thread alive.
 */
public final class SerialExecutor implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SerialExecutor.class);
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final long IDLE_SECONDS = 5;

    private final ExecutorService executor;
    private final String name;
    private final String threadName;

    public SerialExecutor(String name) {
        this.name = name;
        this.threadName = "zkr-" + name + "-" + COUNTER.incrementAndGet();
        // core size 0 and one thread at most: tasks queue in order, and the idle thread times out
        this.executor = new ThreadPoolExecutor(0, 1, IDLE_SECONDS, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        });
    }

    /** Runs {@code task} after every task submitted before it; dropped once closed. */
    public void execute(Runnable task) {
        try {
            executor.execute(() -> {
                try {
                    task.run();
                } catch (Throwable t) {
                    LOG.warn("{}: a callback threw; it was ignored and the recipe goes on", name, t);
                }
            });
        } catch (RejectedExecutionException closed) {
            LOG.debug("{}: closed, dropped a task", name);
        }
    }

    /** True when called from this executor's own thread. */
    public boolean inExecutorThread() {
        return Thread.currentThread().getName().equals(threadName);
    }

    /** Runs the tasks already submitted, then stops the thread; waits up to {@code millis} for them. */
    public void shutdown(long millis) {
        executor.shutdown();
        try {
            executor.awaitTermination(millis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        executor.shutdown();
    }
}
