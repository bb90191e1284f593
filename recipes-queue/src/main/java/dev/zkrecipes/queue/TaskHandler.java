package dev.zkrecipes.queue;

/**
 * Handles one task in {@link TaskQueue#consume}: returning normally acknowledges it, throwing
 * releases it for another delivery (and, after the queue's {@code maxAttempts}, dead-letters it).
 */
@FunctionalInterface
public interface TaskHandler<T> {

    void handle(Task<T> task) throws Exception;
}
