package dev.zkrecipes.lock;

import dev.zkrecipes.core.FencingToken;

/**
 * Hears the validity of held locks (or permits) change. Called one at a time, in order, on the
 * client's callback threads, never on ZooKeeper's event thread; a listener that throws is logged.
 */
public interface LockListener {

    /** The connection is in doubt: the hold with this token is not valid until {@link #resumed}. */
    default void suspended(FencingToken token) {
    }

    /** The same session reconnected and the node is still there: the hold is valid again. */
    default void resumed(FencingToken token) {
    }

    /** The session (or the node) is gone: the hold is over for good; another client may hold it. */
    default void lost(FencingToken token) {
    }
}
