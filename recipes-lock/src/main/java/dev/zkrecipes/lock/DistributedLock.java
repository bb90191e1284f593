package dev.zkrecipes.lock;

import static java.util.Objects.requireNonNull;

import dev.zkrecipes.core.LeadershipLostException;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.core.internal.Deadline;
import dev.zkrecipes.core.internal.HeldNode;
import dev.zkrecipes.core.internal.Options;
import dev.zkrecipes.core.internal.RecipeMetrics;
import dev.zkrecipes.core.internal.RecipePaths;
import dev.zkrecipes.core.internal.SharedInstances;
import dev.zkrecipes.lock.internal.Handle;
import dev.zkrecipes.lock.internal.HolderRegistry;
import dev.zkrecipes.lock.internal.Holders;
import dev.zkrecipes.lock.internal.Holding;
import dev.zkrecipes.lock.internal.LockEngine;
import dev.zkrecipes.lock.internal.Policy;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.apache.curator.utils.ZKPaths;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A lock that excludes across processes: at most one thread, in any process using the same name on
 * the same ensemble, holds it at a time. Reentrant per thread, like Curator's
 * {@code InterProcessMutex}: each {@code acquire} returns a {@link LockHandle} and closing it
 * releases one level.
 *
 * <pre>{@code
 * DistributedLock lock = DistributedLock.of(zk, "orders/42");
 * try (LockHandle h = lock.acquire()) {
 *     h.commit(zk.ops().setData("/orders/42", bytes));
 * }
 * }</pre>
 *
 * <p>How it works: each acquire creates a protected ephemeral-sequential node under
 * {@code /zkr/locks/<name>}; the first node holds; each waiter watches only its predecessor, so a
 * release wakes one waiter. The token is the node's czxid.
 *
 * <p>What it does not guarantee: a holder that is paused (GC, a stopped VM) or partitioned can
 * still believe it holds the lock after its session expired and another client took it.
 * {@link LockHandle#isValid()} turns false as soon as the client suspects the connection (about two
 * thirds of the session timeout into a partition, before the ensemble can expire the session), but
 * only {@link LockHandle#commit} or a resource that checks {@link LockHandle#token()} stops a
 * paused holder's late write.
 *
 * <p>Connection loss while waiting: the wait goes on across reconnects; if the session expires the
 * waiter's node is gone and it queues again with a new node of the new session (a hold is only ever
 * granted on a node of the client's current session). If the retry policy gives up, the call throws
 * {@link dev.zkrecipes.core.ConnectionLossException} and leaves no node behind; a timed call returns
 * within its timeout + 0.5 s, connected or not; an interrupted call leaves no node behind either
 * (a create that lands after the caller gave up is deleted). Thread-safe.
 */
public final class DistributedLock {

    private static final Logger LOG = LoggerFactory.getLogger(DistributedLock.class);

    private final ZkRecipes zk;
    // found once: a client's metrics are fixed when it is built, and acquire is a hot path
    private final RecipeMetrics metrics;
    private final String name;
    private final Policy policy;
    private final Function<String, Policy> policyOfKind;
    private final HolderRegistry registry;
    private final LockEngine engine;
    private final Map<Thread, Holding> holdings = new ConcurrentHashMap<>();

    DistributedLock(ZkRecipes zk, String name, String path, Policy policy, Function<String, Policy> policyOfKind,
            HolderRegistry registry) {
        this.zk = zk;
        this.metrics = RecipeMetrics.of(zk);
        this.name = name;
        this.policy = policy;
        this.policyOfKind = policyOfKind;
        this.registry = registry;
        String what = policy.kind().equals("lock") ? "lock" : policy.kind() + " lock";
        this.engine = new LockEngine(zk.curator(), path, what + " '" + name + "'", registry);
    }

    /**
     * The lock called {@code name}. Cheap: nothing is sent until the first acquire. Calls with the
     * same client and name return the same object while it is in use, so that a thread that takes
     * the lock through two calls of {@code of} re-enters instead of waiting for itself.
     *
     * <p>A mutex and a {@link DistributedReadWriteLock} of the same name share one line and exclude
     * each other (a reader waits for a mutex holder like for a writer). Reentrancy is per object:
     * a thread holding the mutex that asks for the read/write lock of the same name waits for itself.
     *
     * @throws IllegalArgumentException if {@code name} is not a valid recipe name
     * @throws NullPointerException if an argument is null
     */
    public static DistributedLock of(ZkRecipes zk, String name) {
        requireNonNull(zk, "zk");
        String path = RecipePaths.lock(name);
        return SharedInstances.get(zk.curator(), "lock:" + name, () -> {
            Policy exclusive = Policy.exclusive("lock");
            return new DistributedLock(zk, name, path, exclusive, Holders.policyOfKind(exclusive),
                    new HolderRegistry(zk.curator(), name));
        });
    }

    /**
     * Blocks until the calling thread holds the lock (at once if it already does: one more level).
     *
     * @throws InterruptedException if interrupted while waiting; nothing is left behind
     * @throws LeadershipLostException if this thread's outer hold was lost with its session: close
     *         the outer handle first
     * @throws dev.zkrecipes.core.ConnectionLossException if the ensemble stayed unreachable past the retry policy
     * @throws IllegalStateException if the client is not started
     */
    public LockHandle acquire() throws InterruptedException {
        return acquire(-1);
    }

    /**
     * Like {@link #acquire()}, giving up after {@code timeout} ({@link Duration#ZERO}: try once).
     *
     * @return the handle, or empty if the lock was not free in time (no node is left behind)
     * @throws IllegalArgumentException if {@code timeout} is negative
     */
    public Optional<LockHandle> tryAcquire(Duration timeout) throws InterruptedException {
        Options.nonNegative(timeout, "timeout");
        return Optional.ofNullable(acquire(timeout.toNanos()));
    }

    /**
     * The name of the node the calling thread holds validly, or null: what a downgraded read node
     * takes the place of. A hold that is suspended or lost gives no place: another writer may hold.
     */
    String heldNodeNameOfCurrentThread() {
        Holding holding = holdings.get(Thread.currentThread());
        return holding == null || !holding.node().isValid() ? null : ZKPaths.getNodeFromPath(holding.node().path());
    }

    /** True if the calling thread holds the lock (at any level), even if the hold is suspended or lost. */
    public boolean isHeldByCurrentThread() {
        return holdings.containsKey(Thread.currentThread());
    }

    /**
     * The clients holding or waiting for this lock, in line order, as the ensemble reports them now.
     *
     * @throws dev.zkrecipes.core.ConnectionLossException if the ensemble cannot be reached
     */
    public List<LockHolder> holders() {
        zk.checkStarted();
        return Holders.read(zk.curator(), engine.parentPath(), policyOfKind);
    }

    /** Adds a listener for the validity of this lock's holds; see {@link LockListener}. */
    public DistributedLock addListener(LockListener listener) {
        registry.addListener(requireNonNull(listener, "listener"));
        return this;
    }

    /** The lock's name. */
    public String name() {
        return name;
    }

    private LockHandle acquire(long timeoutNanos) throws InterruptedException {
        zk.checkStarted();
        Thread current = Thread.currentThread();
        Holding holding = holdings.get(current);
        if (holding != null) {
            if (holding.node().isEnded()) {
                throw new LeadershipLostException(holding.node() + " was lost (session expired) while this thread"
                        + " held it; close the outer handle, then acquire again");
            }
            holding.enter();
            return new Handle(holding, this::release, true);
        }
        long started = System.nanoTime();
        HeldNode node;
        try {
            node = engine.acquireHeld(policy, Holders.payloadForCurrentThread(), Deadline.afterNanos(timeoutNanos));
        } catch (InterruptedException e) {
            metrics.lockAcquire(name, "interrupted", System.nanoTime() - started);
            throw e;
        } catch (RuntimeException e) {
            metrics.lockAcquire(name, "failed", System.nanoTime() - started);
            throw e;
        }
        metrics.lockAcquire(name, node == null ? "timeout" : "acquired", System.nanoTime() - started);
        if (node == null) {
            return null;
        }
        holding = new Holding(node, current);
        holdings.put(current, holding);
        return new Handle(holding, this::release, true);
    }

    private void release(Holding holding) {
        if (holding.exit() > 0) {
            return;
        }
        holdings.remove(holding.owner());
        boolean wasLost = engine.releaseHeld(holding.node(), Deadline.forClosing(zk.curator()));
        metrics.lockHeld(name, holding.heldNanos(), wasLost);
        if (wasLost) {
            LOG.info("{} was released after its session had expired; any commit through it was refused", holding.node());
        }
    }
}
