package dev.zkrecipes.queue;

import java.time.Instant;

/**
 * A task claimed by this consumer: nobody else is handed it while the claim holds. Finish it with
 * exactly one of {@link #ack()} (done: it never comes back) or {@link #release()} (give it back: it
 * keeps its place in the queue and is delivered again). If the consumer's session dies first, the
 * claim vanishes with it and the task is delivered again, with {@link #attempt()} one higher.
 */
public interface Task<T> {

    /** The payload. */
    T payload();

    /** The task's id within its queue, stable across deliveries. */
    String id();

    /** Which delivery this is: 1 the first time, one more on each redelivery. */
    int attempt();

    /** When the task was put. */
    Instant enqueuedAt();

    /**
     * Deletes the task and its claim in one transaction: after this returns it is never delivered
     * again. Idempotent once it succeeded. After a failure, calling it again asks ZooKeeper again:
     * it returns only if the first call's ack landed or this one does.
     *
     * @throws dev.zkrecipes.core.LeadershipLostException if the claim was lost (session expired, or
     *         its node removed by someone else): the task was not acknowledged and will be, or
     *         already was, delivered again
     * @throws dev.zkrecipes.core.ConnectionLossException if the ensemble stayed unreachable: the
     *         outcome is unknown; the ack is sent again in the background while the claim holds,
     *         and calling ack() again tells which
     * @throws IllegalStateException if the task was released, or another thread is acknowledging it
     */
    void ack();

    /**
     * Gives the task back: it keeps its place and is delivered again (attempt + 1), or goes to the
     * dead letters when it used all its attempts. Does nothing if the claim is already gone.
     */
    void release();
}
