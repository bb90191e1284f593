package dev.zkrecipes.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.zkrecipes.config.ConfigStore;
import dev.zkrecipes.config.FileMetadataStore;
import dev.zkrecipes.core.ZkRecipes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "ls", description = {"List what exists: elections, locks, semaphores, queues, config and file stores,",
        "each with its size (participants, holders and waiters, tasks, keys). Reads only; creates nothing."})
final class ListCommand extends ConnectedCommand {

    /** A sequential child (a participant, a lock node): its parent is a recipe, not a level of a nested name. */
    private static final Pattern SEQUENTIAL = Pattern.compile(".*\\d{10}$");
    private static final int MAX_DEPTH = 8;

    @Option(names = "--json", description = "one JSON object: {kind: [{name, size}]}")
    boolean json;

    /** One recipe found: its kind, name and size (what "size" counts depends on the kind). */
    record Found(String name, long size) {
    }

    @Override
    int run(ZkRecipes zk) throws Exception {
        CuratorFramework curator = zk.curator();
        Map<String, List<Found>> all = new LinkedHashMap<>();
        all.put("elections", lines(curator, ZkRecipes.ROOT + "/elections"));
        all.put("locks", lines(curator, ZkRecipes.ROOT + "/locks"));
        all.put("semaphores", lines(curator, ZkRecipes.ROOT + "/semaphores"));
        List<Found> queues = new ArrayList<>();
        for (String q : queueNames(curator, ZkRecipes.ROOT + "/queues", "", 0)) {
            queues.add(new Found(q, QueueCommand.queue(zk, q).size()));
        }
        all.put("queues", queues);
        List<Found> configs = new ArrayList<>();
        for (String c : ConfigStore.names(zk)) {
            configs.add(new Found(c, -1));
        }
        all.put("config", configs);
        List<Found> stores = new ArrayList<>();
        for (String f : FileMetadataStore.names(zk)) {
            stores.add(new Found(f, -1));
        }
        all.put("fs", stores);
        if (json) {
            out().println(new ObjectMapper().writeValueAsString(all));
            return Zkr.OK;
        }
        for (Map.Entry<String, List<Found>> kind : all.entrySet()) {
            for (Found f : kind.getValue()) {
                out().println(kind.getKey() + "  " + f.name() + (f.size() >= 0 ? "  " + f.size() : ""));
            }
        }
        return Zkr.OK;
    }

    /** Elections, locks, semaphores: recipes whose children are sequential nodes; size = how many. */
    private static List<Found> lines(CuratorFramework curator, String root) throws Exception {
        List<Found> found = new ArrayList<>();
        walk(curator, root, "", 0, found);
        return found;
    }

    private static void walk(CuratorFramework curator, String path, String name, int depth, List<Found> found) throws Exception {
        List<String> children = children(curator, path);
        boolean recipe = !name.isEmpty() && (children.isEmpty() || children.stream().anyMatch(c -> SEQUENTIAL.matcher(c).matches()));
        if (recipe) {
            found.add(new Found(name, children.stream().filter(c -> SEQUENTIAL.matcher(c).matches()).count()));
            return;
        }
        if (depth >= MAX_DEPTH) {
            return;
        }
        for (String child : children.stream().sorted().toList()) {
            walk(curator, path + "/" + child, name.isEmpty() ? child : name + "/" + child, depth + 1, found);
        }
    }

    /** Queues: the nodes that hold a {@code tasks} or {@code tail} node. */
    private static List<String> queueNames(CuratorFramework curator, String path, String name, int depth) throws Exception {
        List<String> children = children(curator, path);
        if (!name.isEmpty() && (children.contains("tasks") || children.contains("tail"))) {
            return List.of(name);
        }
        List<String> names = new ArrayList<>();
        if (depth < MAX_DEPTH) {
            for (String child : children.stream().sorted().toList()) {
                names.addAll(queueNames(curator, path + "/" + child, name.isEmpty() ? child : name + "/" + child, depth + 1));
            }
        }
        return names;
    }

    private static List<String> children(CuratorFramework curator, String path) throws Exception {
        try {
            return curator.getChildren().forPath(path);
        } catch (KeeperException.NoNodeException none) {
            return List.of();
        }
    }
}
