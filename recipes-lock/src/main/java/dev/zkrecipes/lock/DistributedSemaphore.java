package dev.zkrecipes.lock;

import static java.util.Objects.requireNonNull;

import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.core.internal.Deadline;
import dev.zkrecipes.core.internal.HeldNode;
import dev.zkrecipes.core.internal.Options;
import dev.zkrecipes.core.internal.RecipePaths;
import dev.zkrecipes.lock.internal.Handle;
import dev.zkrecipes.lock.internal.HolderRegistry;
import dev.zkrecipes.lock.internal.Holders;
import dev.zkrecipes.lock.internal.Holding;
import dev.zkrecipes.lock.internal.LockEngine;
import dev.zkrecipes.lock.internal.Policy;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * At most {@code permits} holders at a time across processes. Each {@link #acquire()} creates an
 * ephemeral-sequential node under {@code /zkr/semaphores/<name>}; the first {@code permits} nodes
 * of the line hold. Node positions only move forward, so the count can never exceed
 * {@code permits}, whatever the timing. A permit holder whose session dies gives its permit back.
 *
 * <p>All processes must use the same {@code permits} for a name; a process with a larger number
 * would let its own waiters in early.
 *
 * <p>Permits are not reentrant and may be closed from any thread. Validity, guard and commit of a
 * {@link Permit} follow the same rules as a {@link LockHandle}. Waiters watch the line itself, so a
 * release wakes every waiter of the semaphore (holders are not woken).
 */
public final class DistributedSemaphore {

    private final ZkRecipes zk;
    private final String name;
    private final int permits;
    private final Policy policy;
    private final HolderRegistry registry;
    private final LockEngine engine;

    private DistributedSemaphore(ZkRecipes zk, String name, int permits) {
        this.zk = zk;
        this.name = name;
        this.permits = permits;
        this.policy = Policy.permits(permits);
        this.registry = new HolderRegistry(zk.curator(), name);
        this.engine = new LockEngine(zk.curator(), RecipePaths.of("semaphores", name),
                "permit of semaphore '" + name + "'", registry);
    }

    /**
     * The semaphore called {@code name} with {@code permits} permits; nothing is sent until the
     * first acquire.
     *
     * @throws IllegalArgumentException if {@code name} is invalid or {@code permits} is not positive
     */
    public static DistributedSemaphore of(ZkRecipes zk, String name, int permits) {
        requireNonNull(zk, "zk");
        RecipePaths.validateName(name);
        if (permits <= 0) {
            throw new IllegalArgumentException("permits must be positive, got " + permits + " for semaphore '" + name + "'");
        }
        return new DistributedSemaphore(zk, name, permits);
    }

    /**
     * Blocks until a permit is free and takes it.
     *
     * @throws InterruptedException if interrupted while waiting; nothing is left behind
     * @throws dev.zkrecipes.core.ConnectionLossException if the ensemble stayed unreachable past the retry policy
     */
    public Permit acquire() throws InterruptedException {
        return acquire(-1);
    }

    /**
     * Like {@link #acquire()}, giving up after {@code timeout}.
     *
     * @return the permit, or empty if none was free in time
     * @throws IllegalArgumentException if {@code timeout} is negative
     */
    public Optional<Permit> tryAcquire(Duration timeout) throws InterruptedException {
        Options.nonNegative(timeout, "timeout");
        return Optional.ofNullable(acquire(timeout.toNanos()));
    }

    /** The number of permits. */
    public int permits() {
        return permits;
    }

    /** The clients holding or waiting for a permit, in line order, read now. */
    public List<LockHolder> holders() {
        zk.checkStarted();
        return Holders.read(zk.curator(), engine.parentPath(), kind -> policy);
    }

    /** Adds a listener for the validity of this semaphore's permits. */
    public DistributedSemaphore addListener(LockListener listener) {
        registry.addListener(requireNonNull(listener, "listener"));
        return this;
    }

    /** The semaphore's name. */
    public String name() {
        return name;
    }

    private Permit acquire(long timeoutNanos) throws InterruptedException {
        zk.checkStarted();
        HeldNode node = engine.acquireHeld(policy, Holders.payloadForCurrentThread(), Deadline.afterNanos(timeoutNanos));
        if (node == null) {
            return null;
        }
        return new Handle(new Holding(node, Thread.currentThread()), this::release, false);
    }

    private void release(Holding holding) {
        engine.releaseHeld(holding.node(), Deadline.forClosing(zk.curator()));
    }
}
