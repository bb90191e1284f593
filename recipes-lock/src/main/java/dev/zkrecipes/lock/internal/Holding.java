package dev.zkrecipes.lock.internal;

import dev.zkrecipes.core.internal.HeldNode;

/** One thread's hold on one lock: the node and how many levels deep it is held (reentrancy). */
public final class Holding {

    private final HeldNode node;
    private final Thread owner;
    private int levels = 1;

    private final long acquiredAtNanos = System.nanoTime();

    public Holding(HeldNode node, Thread owner) {
        this.node = node;
        this.owner = owner;
    }

    /** How long this hold has lasted. */
    public long heldNanos() {
        return System.nanoTime() - acquiredAtNanos;
    }

    public HeldNode node() {
        return node;
    }

    public Thread owner() {
        return owner;
    }

    /** Only the owner thread calls this. */
    public void enter() {
        levels++;
    }

    /** Only the owner thread calls this; returns the levels left. */
    public int exit() {
        return --levels;
    }
}
