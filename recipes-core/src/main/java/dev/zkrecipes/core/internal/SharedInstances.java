package dev.zkrecipes.core.internal;

import java.lang.ref.WeakReference;
import java.util.HashMap;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.function.Supplier;
import org.apache.curator.framework.CuratorFramework;

/**
 * One recipe object per client and key ("lock:orders/42"), for as long as anyone uses it. Recipes
 * whose per-thread state lives in the object (a reentrant lock) need it: two objects for the same
 * lock in one thread would queue behind each other and wait for ever.
 *
 * <p>Held weakly on both sides: an object nobody references any more, or a closed client's
 * objects, are collected as usual.
 */
public final class SharedInstances {

    private static final Map<CuratorFramework, Map<String, WeakReference<Object>>> BY_CLIENT = new WeakHashMap<>();

    private SharedInstances() {
    }

    /** The object for {@code key} on {@code curator}, made by {@code factory} if there is none alive. */
    @SuppressWarnings("unchecked")
    public static synchronized <T> T get(CuratorFramework curator, String key, Supplier<T> factory) {
        Map<String, WeakReference<Object>> objects = BY_CLIENT.computeIfAbsent(curator, c -> new HashMap<>());
        WeakReference<Object> ref = objects.get(key);
        Object existing = ref != null ? ref.get() : null;
        if (existing != null) {
            return (T) existing;
        }
        if (objects.size() >= 64 && Integer.bitCount(objects.size()) == 1) {
            objects.values().removeIf(r -> r.get() == null);
        }
        T made = factory.get();
        objects.put(key, new WeakReference<>(made));
        return made;
    }
}
