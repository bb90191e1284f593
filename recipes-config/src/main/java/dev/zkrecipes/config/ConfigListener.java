package dev.zkrecipes.config;

import dev.zkrecipes.core.CorruptDataException;

/**
 * Hears every change of a {@link ConfigStore}, one key at a time, in the order the changes were
 * made; the keys of one atomic {@code putAll} arrive one after the other, after the whole batch is
 * visible to {@code get} and {@code snapshot}. Called one at a time on the client's callback
 * threads, never on ZooKeeper's; a listener that throws is logged and ignored.
 */
@FunctionalInterface
public interface ConfigListener {

    /** One key changed: its old and new value (empty when added or deleted). */
    void changed(ConfigChange change);

    /**
     * The store's node now holds data that is not a config document (another tool wrote it, or a
     * newer zk-recipes): the store keeps serving its last good copy and refuses writes until the node
     * holds a valid document again (or is deleted).
     */
    default void unreadable(CorruptDataException problem) {
    }
}
