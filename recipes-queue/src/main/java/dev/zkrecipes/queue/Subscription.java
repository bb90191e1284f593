package dev.zkrecipes.queue;

/** A running {@link TaskQueue#consume} loop. */
public interface Subscription extends AutoCloseable {

    /** True until {@link #close()}. */
    boolean isActive();

    /**
     * Stops taking tasks and waits (up to 30 s) for the handlers running now to finish; their tasks
     * are acknowledged or released as usual. Idempotent.
     */
    @Override
    void close();
}
