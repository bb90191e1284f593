package dev.zkrecipes.core.internal;

import java.util.concurrent.atomic.AtomicReference;

/**
 * LATENT → STARTED → CLOSED, moved with compare-and-set so that a double start or a use after close
 * fails loudly with a message naming the component, while a double close is a no-op.
 */
public final class Lifecycle {

    /** The states a recipe moves through, in order. */
    public enum State { LATENT, STARTED, CLOSED }

    private final String component;
    private final AtomicReference<State> state = new AtomicReference<>(State.LATENT);

    public Lifecycle(String component) {
        this.component = component;
    }

    /** Moves LATENT → STARTED, or throws {@link IllegalStateException}. */
    public void start() {
        if (!state.compareAndSet(State.LATENT, State.STARTED)) {
            throw new IllegalStateException(component + " cannot be started more than once (state " + state.get() + ")");
        }
    }

    /**
     * Moves to CLOSED.
     *
     * @return true for the call that closed it, false if it was already closed
     */
    public boolean close() {
        return state.getAndSet(State.CLOSED) != State.CLOSED;
    }

    public State state() {
        return state.get();
    }

    public boolean isStarted() {
        return state.get() == State.STARTED;
    }

    public boolean isClosed() {
        return state.get() == State.CLOSED;
    }

    /** Throws {@link IllegalStateException} unless STARTED. */
    public void checkStarted() {
        State s = state.get();
        if (s == State.LATENT) {
            throw new IllegalStateException(component + " is not started: call start() first");
        }
        checkNotClosed();
    }

    /** Throws {@link IllegalStateException} if CLOSED. */
    public void checkNotClosed() {
        if (state.get() == State.CLOSED) {
            throw new IllegalStateException(component + " is closed; create a new one");
        }
    }
}
