package dev.zkrecipes.queue;

/** A running {@link TaskQueue#consume} loop. */
public interface Subscription extends AutoCloseable {

    /** True until {@link #close()}, or until the subscription stopped on its own (see {@link #failure()}). */
    boolean isActive();

    /**
     * Why the subscription stopped on its own: the ensemble refused its reads for lack of rights
     * ({@link dev.zkrecipes.core.NotAuthorizedException}, e.g. an ACL changed under a running
     * consumer). Empty while it runs and after a plain {@link #close()}. Other failures (connection
     * loss, junk in the queue) never stop it: its workers back off and go on.
     */
    java.util.Optional<RuntimeException> failure();

    /**
     * Stops taking tasks and waits (up to 30 s) for the handlers running now to finish; their tasks
     * are acknowledged or released as usual. Idempotent.
     */
    @Override
    void close();
}
