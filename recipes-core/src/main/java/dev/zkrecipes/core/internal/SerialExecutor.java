package dev.zkrecipes.core.internal;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
 * for its recipes' own work and at most {@value #MAX_CALLBACK_THREADS} for their listener callbacks.
 * Per client, because that work waits on ZooKeeper: an unreachable client holds only its own
 * threads, never another client's. Work and callbacks apart, because a listener may wait for its
 * recipe's work ({@code resign()} from {@code elected}) and a slow listener must never delay a
 * hand-off. A listener that blocks holds one callback thread of its client: its recipe's later
 * callbacks wait behind it; other recipes' do not, until every callback thread of that client is
 * blocked.
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

    private record Pools(ThreadPoolExecutor work, ThreadPoolExecutor callbacks) {
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
        return POOLS.computeIfAbsent(client, c -> new Pools(pool("zkr-work", MAX_WORK_THREADS),
                pool("zkr-callbacks", MAX_CALLBACK_THREADS)));
    }

    /**
     * Ends {@code client}'s pools once the client itself is closed: tasks already queued still run,
     * new ones are dropped, and the threads end as soon as they are idle.
     */
    public static void closePools(Object client) {
        Pools pools;
        synchronized (SerialExecutor.class) {
            pools = POOLS.remove(client);
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

    /** Runs this executor's tasks for one turn, then gives the shared thread back. */
    private void drain() {
        Thread thread = Thread.currentThread();
        String poolName = thread.getName();
        thread.setName(threadName);
        CURRENT.set(this);
        boolean more = false;
        try {
            for (int ran = 0; ; ran++) {
                Runnable task;
                synchronized (this) {
                    task = ran < TURN ? tasks.pollFirst() : null;
                    if (task == null) {
                        more = !tasks.isEmpty();
                        draining = more;
                        notifyAll();
                        break;
                    }
                }
                try {
                    task.run();
                } catch (Throwable t) {
                    LOG.warn("{}: a task threw; it was ignored and the recipe goes on", name, t);
                }
            }
        } finally {
            CURRENT.remove();
            thread.setName(poolName);
        }
        if (more) {
            // the rest after the other recipes' turns: one busy recipe must not starve the others
            schedule();
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
