package dev.zkrecipes.core.internal;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one recipe's tasks (its own state machine, or its listener callbacks) one at a time, in
 * submission order, off ZooKeeper's event thread, on threads its client's recipes share. A task
 * that throws is logged and does not stop the ones after it.
 *
 * <p>Why shared, and why per client: a thread per recipe made a process with thousands of
 * elections run thousands of threads in every burst (start, hand-over, reconnect). Now each client
 * has two pools, idle threads ending after a few seconds: at most {@value #MAX_WORK_THREADS} threads
 * for its recipes' own work and, normally, {@value #MAX_CALLBACK_THREADS} for their listener
 * callbacks. Per client, because that work waits on ZooKeeper: an unreachable client holds only its
 * own threads, never another client's. Work and callbacks apart, because a listener may wait for its
 * recipe's work ({@code resign()} from {@code elected}) and a slow listener must never delay a
 * hand-off. A listener that blocks holds one callback thread: its recipe's later callbacks wait
 * behind it, other recipes' do not. When every callback thread of a client is taken and nothing
 * finishes for a while (listeners that block, or wait for one another), the callback pool grows by
 * {@value #MAX_CALLBACK_THREADS} threads, with a warning, and shrinks back once idle: blocked
 * listeners cost threads, never another recipe's callbacks (a {@code revoked} among them).
 *
 * <p>While a thread runs a recipe's tasks it carries the recipe's name ({@code zkr-<name>-<n>}), so
 * thread dumps say whose work is going on.
 */
public final class SerialExecutor implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SerialExecutor.class);
    static final int MAX_WORK_THREADS = 16;
    static final int MAX_CALLBACK_THREADS = 16;
    private static final long IDLE_SECONDS = 5;
    /** Tasks one turn on a shared thread may run before it lets other recipes of the client go first. */
    private static final int TURN = 64;
    private static final AtomicInteger COUNTER = new AtomicInteger();
    /** Each client's pools (weak keys: a client dropped without closing takes its pools along). */
    private static final Map<Object, Pools> POOLS = new WeakHashMap<>();
    /** The executor whose task the current thread runs, if any. */
    private static final ThreadLocal<SerialExecutor> CURRENT = new ThreadLocal<>();

    private record Pools(ThreadPoolExecutor work, ThreadPoolExecutor callbacks, AtomicLong callbacksDone) {
    }

    /** What a client closed meanwhile gets: pools that refuse every task (no new threads for it). */
    private static final Pools CLOSED = closedPools();
    /** Clients whose pools were closed (weak: they go with their client). */
    private static final Map<Object, Boolean> CLOSED_CLIENTS = new WeakHashMap<>();
    /** How often the callback pools are checked for being stuck, and how long counts as stuck. */
    private static final long STUCK_CHECK_MILLIS = 250;
    private static final ScheduledExecutorService WATCH = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "zkr-callback-pools-watch");
        t.setDaemon(true);
        return t;
    });

    static {
        WATCH.scheduleWithFixedDelay(SerialExecutor::growStuckCallbackPools, STUCK_CHECK_MILLIS, STUCK_CHECK_MILLIS,
                TimeUnit.MILLISECONDS);
    }

    private final String name;
    private final String threadName;
    private final ThreadPoolExecutor pool;
    // guarded by this
    private final Deque<Runnable> tasks = new ArrayDeque<>();
    private boolean draining;
    private boolean closed;

    private SerialExecutor(String name, ThreadPoolExecutor pool) {
        this.name = name;
        this.threadName = "zkr-" + name + "-" + COUNTER.incrementAndGet();
        this.pool = pool;
    }

    /** An executor for a recipe's own work (ZooKeeper requests, its state machine) on {@code client}'s pool. */
    public static SerialExecutor forWork(String name, Object client) {
        return new SerialExecutor(name, poolsOf(client).work());
    }

    /** An executor for a recipe's listener callbacks (user code) on {@code client}'s callback pool. */
    public static SerialExecutor forCallbacks(String name, Object client) {
        return new SerialExecutor(name, poolsOf(client).callbacks());
    }

    private static synchronized Pools poolsOf(Object client) {
        if (CLOSED_CLIENTS.containsKey(client)) {
            return CLOSED;
        }
        return POOLS.computeIfAbsent(client, c -> new Pools(pool("zkr-work", MAX_WORK_THREADS),
                pool("zkr-callbacks", MAX_CALLBACK_THREADS), new AtomicLong(-1)));
    }

    private static Pools closedPools() {
        Pools closed = new Pools(pool("zkr-work", 1), pool("zkr-callbacks", 1), new AtomicLong());
        closed.work().shutdown();
        closed.callbacks().shutdown();
        return closed;
    }

    /**
     * Grows each callback pool whose threads are all taken while tasks wait and none finished since
     * the last look (listeners blocking, or waiting for one another); shrinks it back once idle.
     */
    private static void growStuckCallbackPools() {
        List<Pools> all;
        synchronized (SerialExecutor.class) {
            all = List.copyOf(POOLS.values());
        }
        for (Pools pools : all) {
            ThreadPoolExecutor p = pools.callbacks();
            long done = p.getCompletedTaskCount();
            long before = pools.callbacksDone().getAndSet(done);
            int size = p.getCorePoolSize();
            if (!p.getQueue().isEmpty() && p.getActiveCount() >= size && done == before) {
                int grown = size + MAX_CALLBACK_THREADS;
                LOG.warn("{} listener callbacks of one client have been running for {} ms or more and others wait:"
                        + " listeners should return quickly; {} more callback threads for now", size, STUCK_CHECK_MILLIS,
                        MAX_CALLBACK_THREADS);
                p.setMaximumPoolSize(grown);
                p.setCorePoolSize(grown);
            } else if (size > MAX_CALLBACK_THREADS && p.getQueue().isEmpty() && p.getActiveCount() < MAX_CALLBACK_THREADS) {
                p.setCorePoolSize(MAX_CALLBACK_THREADS);
                p.setMaximumPoolSize(MAX_CALLBACK_THREADS);
            }
        }
    }

    /**
     * Ends {@code client}'s pools once the client itself is closed: tasks already queued still run,
     * new ones are dropped, and the threads end as soon as they are idle.
     */
    public static void closePools(Object client) {
        Pools pools;
        synchronized (SerialExecutor.class) {
            pools = POOLS.remove(client);
            CLOSED_CLIENTS.put(client, Boolean.TRUE);
        }
        if (pools != null) {
            pools.work().shutdown();
            pools.callbacks().shutdown();
        }
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
        schedule();
    }

    private void schedule() {
        try {
            pool.execute(this::drain);
        } catch (RejectedExecutionException clientClosed) {
            synchronized (this) {
                draining = false;
                tasks.clear();
            }
            LOG.debug("{}: its client is closed, dropped its tasks", name);
        }
    }

    /**
     * Runs this executor's tasks for one turn, then gives the shared thread back; all of them once
     * its client's pool is closing (a rescheduled rest would be refused, and a closing recipe's last
     * callbacks, revoked(CLOSED) among them, must still run).
     */
    private void drain() {
        Thread thread = Thread.currentThread();
        String poolName = thread.getName();
        thread.setName(threadName);
        CURRENT.set(this);
        boolean more = false;
        boolean finished = false;
        try {
            for (int ran = 0; ; ran++) {
                Runnable task;
                synchronized (this) {
                    task = ran < TURN || pool.isShutdown() ? tasks.pollFirst() : null;
                    if (task == null) {
                        more = !tasks.isEmpty();
                        draining = more;
                        notifyAll();
                        break;
                    }
                }
                run(task);
            }
            finished = true;
        } finally {
            CURRENT.remove();
            thread.setName(poolName);
            if (!finished) {
                // something beyond the tasks failed: never leave this executor marked as draining
                synchronized (this) {
                    more = !tasks.isEmpty();
                    draining = more;
                }
            }
        }
        if (more) {
            // the rest after the other recipes' turns: one busy recipe must not starve the others
            schedule();
        }
    }

    private void run(Runnable task) {
        try {
            task.run();
        } catch (Throwable t) {
            try {
                LOG.warn("{}: a task threw; it was ignored and the recipe goes on", name, t);
            } catch (RuntimeException logging) {
                // a throwable that cannot even be logged must not stop the recipe either
            }
        } finally {
            // an interrupt left by one task must not reach the recipe's next ones
            Thread.interrupted();
        }
    }

    /** True when called from a task of this executor. */
    public boolean inExecutorThread() {
        return CURRENT.get() == this;
    }

    /** Takes no more tasks; those already submitted still run. */
    @Override
    public synchronized void close() {
        closed = true;
    }
}
