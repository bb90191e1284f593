package dev.zkrecipes.core.internal;

import dev.zkrecipes.core.ZkRecipes;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * What the recipes of one client report for operators. Does nothing unless the client was built
 * with {@code meterRegistry(...)}; then {@link MicrometerMetrics} turns each call into meters. No
 * Micrometer class is touched by this interface or by {@link #NONE}.
 *
 * <p>Every method is cheap and never throws: metrics must not change what a recipe does.
 */
public interface RecipeMetrics {

    /** The metrics of a client built without a registry. */
    RecipeMetrics NONE = new RecipeMetrics() {
    };

    /** The metrics of {@code zk}'s recipes ({@link #NONE} if it has none). */
    static RecipeMetrics of(ZkRecipes zk) {
        synchronized (Registered.BY_CLIENT) {
            return Registered.BY_CLIENT.getOrDefault(zk, NONE);
        }
    }

    /** Attaches {@code metrics} to {@code zk}, for {@link #of}. */
    static void register(ZkRecipes zk, RecipeMetrics metrics) {
        synchronized (Registered.BY_CLIENT) {
            Registered.BY_CLIENT.put(zk, metrics);
        }
    }

    /** An election's participant began (true) or ended (false) a term; {@code reason} for an end. */
    default void leadership(String election, String participant, boolean leads, String reason) {
    }

    /** A lock acquire finished: {@code outcome} is acquired, timeout, interrupted or failed. */
    default void lockAcquire(String lock, String outcome, long waitNanos) {
    }

    /** A hold ended after {@code heldNanos}: released (lost false) or lost (lost true). */
    default void lockHeld(String lock, long heldNanos, boolean lost) {
    }

    /** {@code tasks} tasks were put. */
    default void queuePut(String queue, int tasks) {
    }

    /** A task was handed to a consumer on its {@code attempt}-th delivery, {@code ageMillis} after it was put. */
    default void queueDelivered(String queue, int attempt, long ageMillis) {
    }

    /** A task was acknowledged {@code claimToAckNanos} after it was claimed. */
    default void queueAck(String queue, long claimToAckNanos) {
    }

    /** A task was given back (released) for another delivery. */
    default void queueRelease(String queue) {
    }

    /** A task went to the dead letters. */
    default void queueDead(String queue) {
    }

    /** A config or file store applied {@code changes} changes seen from the ensemble. */
    default void storeChanged(String store, int changes) {
    }

    /** Where clients and their metrics meet; weak, so a dropped client is not kept alive. */
    final class Registered {
        private static final Map<ZkRecipes, RecipeMetrics> BY_CLIENT = new WeakHashMap<>();

        private Registered() {
        }
    }
}
