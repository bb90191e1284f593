package dev.zkrecipes.it.config;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.zkrecipes.config.FileMetadata;
import dev.zkrecipes.config.FileMetadataStore;
import dev.zkrecipes.config.Versioned;
import dev.zkrecipes.core.AlreadyExistsException;
import dev.zkrecipes.core.NoSuchPathException;
import dev.zkrecipes.core.VersionConflictException;
import dev.zkrecipes.core.ZkRecipeException;
import dev.zkrecipes.testing.EmbeddedZk;
import dev.zkrecipes.testing.LoopbackProxy.Opcodes;
import dev.zkrecipes.testing.ProxiedClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Several clients create, update, rename and delete in one file store while their replies are lost,
 * their sessions expire and their connections are cut. Each client works on files only it names
 * (so it knows what its own acknowledged writes must have left), in directories they share.
 * Afterwards the tree is checked as a tree (every entry's parent is a directory, nothing stray), every
 * acknowledged write is there, and no failure was reported for a write that was in fact applied.
 */
class FileStoreTreeFaultIT {

    @RegisterExtension
    static final EmbeddedZk zk = EmbeddedZk.withClients(1);

    private static final Duration SESSION = Duration.ofSeconds(4);
    private static final int CLIENTS = 3;
    private static final int OPS_PER_CLIENT = 60;
    private static final List<String> DIRS = List.of("/a", "/b", "/c");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What one client knows of one of its files: where it is and its size, or that it cannot know. */
    private static final class Known {
        String path;
        long size;
        int version;
        boolean present;
        boolean unknown;
    }

    private static FileMetadata file(long size) {
        return FileMetadata.builder().size(size).build();
    }

    @Test
    void treeStaysATreeAndNoAppliedWriteIsReportedAsFailedUnderAmbiguousFaults() throws Exception {
        long seed = Long.getLong("zkr.seed", System.nanoTime());
        System.out.println("FileStoreTreeFaultIT seed=" + seed + " (rerun with -Dzkr.seed=" + seed + ")");
        String store = "tree-fault";
        List<ProxiedClient> clients = new ArrayList<>();
        List<FileMetadataStore> stores = new ArrayList<>();
        List<String> violations = new CopyOnWriteArrayList<>();
        List<Map<String, Known>> models = new ArrayList<>();
        AtomicBoolean done = new AtomicBoolean();
        try {
            for (int i = 0; i < CLIENTS; i++) {
                ProxiedClient c = zk.proxiedClient(SESSION);
                clients.add(c);
                stores.add(FileMetadataStore.open(c.zk(), store));
                models.add(new HashMap<>());
            }
            DIRS.forEach(stores.get(0)::mkdirs);

            List<CompletableFuture<Void>> workers = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                int id = i;
                Random random = new Random(seed + i);
                workers.add(CompletableFuture.runAsync(() -> work(id, stores.get(id), models.get(id), random, violations)));
            }
            Random faults = new Random(seed);
            CompletableFuture<Void> injector = CompletableFuture.runAsync(() -> {
                while (!done.get()) {
                    ProxiedClient victim = clients.get(faults.nextInt(CLIENTS));
                    switch (faults.nextInt(4)) {
                        case 0 -> victim.expireSession();
                        case 1 -> victim.proxy().cut();
                        default -> victim.proxy().loseNextReply(Opcodes.WRITES);
                    }
                    await().pollDelay(Duration.ofMillis(150 + faults.nextInt(250))).until(() -> true);
                }
            });
            CompletableFuture.allOf(workers.toArray(CompletableFuture[]::new)).get(90, TimeUnit.SECONDS);
            done.set(true);
            injector.get(10, TimeUnit.SECONDS);
        } finally {
            done.set(true);
            stores.forEach(FileMetadataStore::close);
            clients.forEach(ProxiedClient::close);
        }

        assertThat(violations).as("failures reported for writes that were applied").isEmpty();
        CuratorFramework reader = zk.client(0).curator();
        String root = "/zkr/fs/" + store;
        Map<String, JsonNode> tree = readTree(reader, root, "/");
        for (String path : tree.keySet()) {
            if (!path.equals("/")) {
                String parent = path.lastIndexOf('/') == 0 ? "/" : path.substring(0, path.lastIndexOf('/'));
                assertThat(tree.get(parent)).as("parent of %s", path).isNotNull();
                assertThat(tree.get(parent).path("type").asText()).as("type of %s, parent of %s", parent, path).isEqualTo("dir");
            }
        }
        int checked = 0;
        List<String> expectedFiles = new ArrayList<>();
        for (Map<String, Known> model : models) {
            for (Known k : model.values()) {
                if (k.unknown) {
                    continue;
                }
                checked++;
                if (k.present) {
                    expectedFiles.add(k.path);
                    assertThat(tree).as("acknowledged file %s", k.path).containsKey(k.path);
                    assertThat(tree.get(k.path).path("size").asLong()).as("size of %s", k.path).isEqualTo(k.size);
                } else {
                    assertThat(tree).as("acknowledged delete or move of %s", k.path).doesNotContainKey(k.path);
                }
            }
        }
        for (String path : tree.keySet()) {
            boolean isDir = tree.get(path).path("type").asText().equals("dir");
            boolean claimed = expectedFiles.contains(path)
                    || models.stream().anyMatch(m -> m.values().stream().anyMatch(k -> k.unknown));
            assertThat(isDir || claimed).as("stray entry %s", path).isTrue();
        }
        System.out.println("FileStoreTreeFaultIT: " + tree.size() + " entries, " + checked + " files checked against"
                + " acknowledged writes");
        assertThat(checked).isGreaterThan(CLIENTS * 5);
    }

    /** One client's random work on its own files: create, update, rename, delete. */
    private static void work(int id, FileMetadataStore fs, Map<String, Known> model, Random random, List<String> violations) {
        int counter = 0;
        for (int op = 0; op < OPS_PER_CLIENT; op++) {
            List<Known> mine = model.values().stream().filter(k -> k.present && !k.unknown).toList();
            int choice = mine.isEmpty() ? 0 : random.nextInt(4);
            String dir = DIRS.get(random.nextInt(DIRS.size()));
            try {
                switch (choice) {
                    case 0 -> {
                        Known k = new Known();
                        k.path = dir + "/c" + id + "-" + counter++;
                        k.size = random.nextInt(1000);
                        model.put(k.path, k);
                        call(k, violations, "create " + k.path, () -> {
                            Versioned<FileMetadata> v = fs.create(k.path, file(k.size));
                            k.version = v.version();
                            k.present = true;
                        });
                    }
                    case 1 -> {
                        Known k = mine.get(random.nextInt(mine.size()));
                        long size = 1000 + random.nextInt(1000);
                        call(k, violations, "update " + k.path, () -> {
                            Versioned<FileMetadata> v = fs.update(k.path, k.version, file(size));
                            k.version = v.version();
                            k.size = size;
                        });
                    }
                    case 2 -> {
                        Known k = mine.get(random.nextInt(mine.size()));
                        String to = dir + "/c" + id + "-" + counter++;
                        call(k, violations, "rename " + k.path + " to " + to, () -> {
                            fs.rename(k.path, to);
                            Known moved = new Known();
                            moved.path = to;
                            moved.size = k.size;
                            moved.version = 0;
                            moved.present = true;
                            model.put(to, moved);
                            k.present = false;
                        });
                    }
                    default -> {
                        Known k = mine.get(random.nextInt(mine.size()));
                        call(k, violations, "delete " + k.path, () -> {
                            fs.delete(k.path);
                            k.present = false;
                        });
                    }
                }
            } catch (RuntimeException e) {
                violations.add("client " + id + ": unexpected " + e);
            }
        }
    }

    /**
     * Runs one write and files its outcome: success updates the model; a definite refusal on a file
     * only this client names, in a state it knows, is a lie (our own applied write reported as
     * failed); anything else (connection loss, expiry) makes the file's state unknown.
     */
    private static void call(Known k, List<String> violations, String what, Runnable write) {
        try {
            write.run();
        } catch (AlreadyExistsException | NoSuchPathException | VersionConflictException refused) {
            violations.add(what + " was refused (" + refused.getClass().getSimpleName() + ": " + refused.getMessage()
                    + ") although only this client touches it and its state was known");
            k.unknown = true;
        } catch (ZkRecipeException unknownOutcome) {
            k.unknown = true;
        }
    }

    private static Map<String, JsonNode> readTree(CuratorFramework reader, String zkRoot, String path) throws Exception {
        Map<String, JsonNode> tree = new HashMap<>();
        String zkPath = path.equals("/") ? zkRoot : zkRoot + path;
        byte[] data = reader.getData().forPath(zkPath);
        tree.put(path, JSON.readTree(new String(data, UTF_8)));
        for (String child : reader.getChildren().forPath(zkPath)) {
            tree.putAll(readTree(reader, zkRoot, path.equals("/") ? "/" + child : path + "/" + child));
        }
        return tree;
    }
}
