package dev.zkrecipes.lock;

import static java.util.Objects.requireNonNull;

import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.core.internal.RecipePaths;
import dev.zkrecipes.core.internal.SharedInstances;
import dev.zkrecipes.lock.internal.Holders;
import dev.zkrecipes.lock.internal.HolderRegistry;
import dev.zkrecipes.lock.internal.Policy;
import java.util.function.Function;

/**
 * A read/write lock across processes: many readers together, or one writer alone. Readers and
 * writers queue in one line under {@code /zkr/locks/<name>} in arrival order: a reader waits only
 * for writers ahead of it, a writer for everyone ahead of it, so writers are not starved.
 *
 * <p>{@link #readLock()} and {@link #writeLock()} are {@link DistributedLock}s with the same shape,
 * tokens, validity and connection-loss behaviour. A thread holding the write lock may take the read
 * lock and then release the write lock (downgrade), as with Curator's
 * {@code InterProcessReadWriteLock}: the read node takes the write node's place in line, so a writer
 * queued meanwhile still waits for the downgraded read lock. Upgrading read to write deadlocks, as
 * there. Calls of {@link #of} with the same client and name return the same object while in use.
 */
public final class DistributedReadWriteLock {

    private final DistributedLock readLock;
    private final DistributedLock writeLock;

    private DistributedReadWriteLock(ZkRecipes zk, String name) {
        String path = RecipePaths.lock(name);
        HolderRegistry registry = new HolderRegistry(zk.curator(), name);
        Policy write = Policy.exclusive(Policy.WRITE);
        Function<String, Policy> policyOfKind = Holders.policyOfKind(write);
        DistributedLock[] writer = new DistributedLock[1];
        this.writeLock = new DistributedLock(zk, name, path, write, policyOfKind, registry);
        writer[0] = writeLock;
        Policy read = Policy.read(() -> writer[0].heldNodeNameOfCurrentThread());
        this.readLock = new DistributedLock(zk, name, path, read, policyOfKind, registry);
    }

    /**
     * The read/write lock called {@code name}; nothing is sent until the first acquire.
     *
     * @throws IllegalArgumentException if {@code name} is not a valid recipe name
     */
    public static DistributedReadWriteLock of(ZkRecipes zk, String name) {
        requireNonNull(zk, "zk");
        RecipePaths.lock(name);
        return SharedInstances.get(zk.curator(), "rwlock:" + name, () -> new DistributedReadWriteLock(zk, name));
    }

    /** The shared side: held by many readers at once while no writer holds or waits ahead. */
    public DistributedLock readLock() {
        return readLock;
    }

    /** The exclusive side: held by one writer while nobody else holds. */
    public DistributedLock writeLock() {
        return writeLock;
    }
}
