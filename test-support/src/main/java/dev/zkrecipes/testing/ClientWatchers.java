package dev.zkrecipes.testing;

import dev.zkrecipes.core.ZkRecipes;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.zookeeper.ZooKeeper;

/**
 * The watchers a client's ZooKeeper handle holds (data, exist, child, persistent tables), read
 * from ZooKeeper's package-private watch manager without taking anything away: what tests count to
 * show that a recipe leaves no watcher behind. ZooKeeper 3.9 keeps them in a {@code ZKWatchManager}
 * reached through {@code getWatchManager()}; older versions in a {@code watchManager} field.
 */
public final class ClientWatchers {

    private ClientWatchers() {
    }

    /** How many watcher objects per {@code table:path}, for the paths that start with {@code under}. */
    public static Map<String, Integer> under(ZkRecipes client, String under) throws Exception {
        Map<String, Integer> found = new TreeMap<>();
        Object manager = watchManagerOf(client.curator().getZookeeperClient().getZooKeeper());
        for (Class<?> k = manager.getClass(); k != null; k = k.getSuperclass()) {
            for (Field f : k.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers()) || !Map.class.isAssignableFrom(f.getType())) {
                    continue;
                }
                f.setAccessible(true);
                Map<?, ?> byPath = (Map<?, ?>) f.get(manager);
                synchronized (byPath) {
                    for (Map.Entry<?, ?> e : byPath.entrySet()) {
                        if (String.valueOf(e.getKey()).startsWith(under) && e.getValue() instanceof Set<?> set
                                && !set.isEmpty()) {
                            found.merge(f.getName() + ":" + e.getKey(), set.size(), Integer::sum);
                        }
                    }
                }
            }
        }
        return found;
    }

    /** Every watcher the client holds, summed over tables and paths. */
    public static int count(ZkRecipes client) throws Exception {
        return under(client, "").values().stream().mapToInt(Integer::intValue).sum();
    }

    private static Object watchManagerOf(ZooKeeper zooKeeper) throws Exception {
        for (Class<?> k = zooKeeper.getClass(); k != null; k = k.getSuperclass()) {
            for (Field f : k.getDeclaredFields()) {
                if (f.getName().equals("watchManager")) {
                    f.setAccessible(true);
                    return f.get(zooKeeper);
                }
            }
            for (Method m : k.getDeclaredMethods()) {
                if (m.getName().equals("getWatchManager") && m.getParameterCount() == 0) {
                    m.setAccessible(true);
                    return m.invoke(zooKeeper);
                }
            }
        }
        throw new IllegalStateException("no watch manager found on " + zooKeeper.getClass());
    }
}
