package dev.zkrecipes.config.internal;

import dev.zkrecipes.core.internal.ZkErrors;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Predicate;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;

/** Finds the stores of one kind under their root ({@code /zkr/config}, {@code /zkr/fs}); reads only. */
public final class StoreDirectory {

    private StoreDirectory() {
    }

    /**
     * The names of the nodes below {@code root} whose data {@code isStore} accepts, sorted. With
     * {@code descendIntoStores} false, nothing below a store is looked at (its entries are not stores).
     */
    public static List<String> names(CuratorFramework curator, String root, Predicate<byte[]> isStore,
            boolean descendIntoStores) {
        List<String> names = new ArrayList<>();
        collect(curator, root, "", isStore, descendIntoStores, names);
        Collections.sort(names);
        return names;
    }

    private static void collect(CuratorFramework curator, String zkPath, String name, Predicate<byte[]> isStore,
            boolean descendIntoStores, List<String> into) {
        try {
            byte[] data;
            try {
                data = curator.getData().forPath(zkPath);
            } catch (KeeperException.NoNodeException gone) {
                return;
            }
            if (!name.isEmpty() && isStore.test(data)) {
                into.add(name);
                if (!descendIntoStores) {
                    return;
                }
            }
            for (String child : curator.getChildren().forPath(zkPath)) {
                collect(curator, zkPath + "/" + child, name.isEmpty() ? child : name + "/" + child, isStore,
                        descendIntoStores, into);
            }
        } catch (Exception e) {
            throw ZkErrors.translate(curator, e, "listing the stores under " + zkPath);
        }
    }
}
