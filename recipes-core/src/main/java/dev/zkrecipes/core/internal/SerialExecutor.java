package dev.zkrecipes.core.internal;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one recipe's tasks (its own state machine, or its listener callbacks) one at a time, in
 * submission order, off ZooKeeper's event thread -- on threads shared by every recipe in the JVM.
 * A task that throws is logged and does not stop the ones after it.
 *
 * <p>Why shared: a thread per recipe made a process with thousands of elections run thousands of
 * threads. Now a process runs at most {@value #MAX_WORK_THREADS} threads for recipes' own work and
 * {@value #MAX_CALLBACK_THREADS} for listener callbacks, whatever the number of recipes; idle
 * threads end after a few seconds. Work and callbacks use separate pools, so a slow listener never
 * delays a hand-off; a listener that blocks holds one callback thread (its recipe's later
 * callbacks wait behind it, other recipes' do not, until every callback thread is blocked).
 */
public final class SerialExecutor implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SerialExecutor.class);
    private static final int MAX_WORK_THREADS = 32;
    private static final int MAX_CALLBACK_THREADS = 32;
    private static final long IDLE_SECONDS = 5;
    private static final ThreadPoolExecutor WORK = pool("zkr-recipes", MAX_WORK_THREADS);
    private static final ThreadPoolExecutor CALLBACKS = pool("zkr-callbacks", MAX_CALLBACK_THREADS);
    /** The executor whose task the current thread runs, if any. */
    private static final ThreadLocal<SerialExecutor> CURRENT = new ThreadLocal<>();

    private final String name;
    private final Executor pool;
    // guarded by this
    private final Deque<Runnable> tasks = new ArrayDeque<>();
    private boolean draining;
    private boolean closed;

    /** An executor for a recipe's own work (ZooKeeper requests, its state machine). */
    public SerialExecutor(String name) {
        this(name, WORK);
    }

    private SerialExecutor(String name, Executor pool) {
        this.name = name;
        this.pool = pool;
    }

    /** An executor for listener callbacks: user code, on threads apart from the recipes' own work. */
    public static SerialExecutor forCallbacks(String name) {
        return new SerialExecutor(name, CALLBACKS);
    }

    private static ThreadPoolExecutor pool(String prefix, int max) {
        AtomicInteger count = new AtomicInteger();
        ThreadPoolExecutor p = new ThreadPoolExecutor(max, max, IDLE_SECONDS, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, prefix + "-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        p.allowCoreThreadTimeOut(true);
        return p;
    }

    /** Runs {@code task} after every task submitted before it; dropped once closed. */
    public void execute(Runnable task) {
        synchronized (this) {
            if (closed) {
                LOG.debug("{}: closed, dropped a task", name);
                return;
            }
            tasks.addLast(task);
            if (draining) {
                return;
            }
            draining = true;
        }
        pool.execute(this::drain);
    }

    /** Runs this executor's tasks until none is left, then gives the shared thread back. */
    private void drain() {
        CURRENT.set(this);
        try {
            while (true) {
                Runnable task;
                synchronized (this) {
                    task = tasks.pollFirst();
                    if (task == null) {
                        draining = false;
                        notifyAll();
                        return;
                    }
                }
                try {
                    task.run();
                } catch (Throwable t) {
                    LOG.warn("{}: a callback threw; it was ignored and the recipe goes on", name, t);
                }
            }
        } finally {
            CURRENT.remove();
        }
    }

    /** True when called from a task of this executor. */
    public boolean inExecutorThread() {
        return CURRENT.get() == this;
    }

    /** Runs the tasks already submitted, then stops; waits up to {@code millis} for them. */
    public void shutdown(long millis) {
        close();
        if (inExecutorThread()) {
            return;
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        synchronized (this) {
            while (draining || !tasks.isEmpty()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(this, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** Takes no more tasks; those already submitted still run. */
    @Override
    public synchronized void close() {
        closed = true;
    }
}
