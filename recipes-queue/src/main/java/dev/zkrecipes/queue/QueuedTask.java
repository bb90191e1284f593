package dev.zkrecipes.queue;

/**
 * A task waiting in a queue, as {@link TaskQueue#peek(int)} shows it without claiming it.
 *
 * @param id the task's id
 * @param payload the task's payload
 * @param deliveries how many times it was delivered so far (0: never)
 * @param claimed true if a consumer holds it right now
 */
public record QueuedTask<T>(String id, T payload, int deliveries, boolean claimed) {
}
