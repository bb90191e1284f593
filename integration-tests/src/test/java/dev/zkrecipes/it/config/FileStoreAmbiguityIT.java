package dev.zkrecipes.it.config;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.zkrecipes.config.FileMetadata;
import dev.zkrecipes.config.FileMetadataStore;
import dev.zkrecipes.config.Versioned;
import dev.zkrecipes.core.AlreadyExistsException;
import dev.zkrecipes.core.CorruptDataException;
import dev.zkrecipes.core.NoSuchPathException;
import dev.zkrecipes.core.NotADirectoryException;
import dev.zkrecipes.core.PayloadTooLargeException;
import dev.zkrecipes.core.VersionConflictException;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.testing.Clients;
import dev.zkrecipes.testing.EmbeddedZk;
import dev.zkrecipes.testing.LoopbackProxy;
import dev.zkrecipes.testing.LoopbackProxy.LostReply;
import dev.zkrecipes.testing.LoopbackProxy.Opcodes;
import dev.zkrecipes.testing.ProxiedClient;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link FileMetadataStore} under ambiguity and races, on a real embedded server: writes whose reply
 * is lost after the server applied them, writes after {@code close()}, read-your-writes, the tree
 * kept a tree while other clients change it, limits checked before sending, garbage written by an
 * operator, and stores nested inside each other's names.
 *
 * <p>The znode layout of the store is not assumed: an entry's znode is found by a marker in its
 * metadata, "nothing was created" compares every znode below {@code /zkr/fs/<name>} before and
 * after, and what other clients see is read through their own store.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FileStoreAmbiguityIT {

    @RegisterExtension
    static final EmbeddedZk zk = EmbeddedZk.withClients(1);

    private static final Duration SESSION = Duration.ofSeconds(4);
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final Duration LOST_REPLY = Duration.ofSeconds(5);
    private static final AtomicInteger NAMES = new AtomicInteger();

    private final Deque<AutoCloseable> toClose = new ArrayDeque<>();
    private final ExecutorService threads = Executors.newCachedThreadPool();

    @AfterEach
    void closeEverything() {
        threads.shutdownNow();
        while (!toClose.isEmpty()) {
            try {
                toClose.pop().close();
            } catch (Exception ignored) {
                // closing anyway
            }
        }
    }

    // ---- 1. a reply lost after the server applied the write ----

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"/top-level.parquet", "/raw/2026/11/with-new-parents.parquet"})
    void createWhoseReplyIsLostAfterTheServerAppliedItReturnsNormallyAndTheEntryExists(String path) throws Exception {
        String name = storeName("create-lost");
        ProxiedClient victim = proxied();
        FileMetadataStore a = open(victim.zk(), name);
        FileMetadataStore b = open(other(), name);
        FileMetadata meta = file("create-lost", 42);
        LostReply lost = victim.proxy().loseNextReply(anyOf(Opcodes.CREATES, Opcodes.MULTI));

        Versioned<FileMetadata> created = a.create(path, meta);

        lost.await(LOST_REPLY);
        assertThat(created).isEqualTo(new Versioned<>(meta, 0));
        assertThat(a.stat(path)).contains(new Versioned<>(meta, 0));
        await().atMost(WAIT).untilAsserted(() -> assertThat(b.stat(path)).contains(new Versioned<>(meta, 0)));
        assertThat(b.stat(parentOf(path)).orElseThrow().value().isDirectory()).isTrue();
    }

    @Test
    void createThatAnotherClientBeatWhileItsReplyWasLostStillFailsWithAlreadyExists() throws Exception {
        String name = storeName("create-beaten");
        ProxiedClient victim = proxied();
        FileMetadataStore a = open(victim.zk(), name);
        FileMetadataStore b = open(other(), name);
        FileMetadata theirs = file("theirs", 1);
        victim.proxy().stallRequestsFrom(Opcodes.WRITES);
        LostReply lost = victim.proxy().loseNextReply(Opcodes.WRITES);

        Future<Throwable> outcome = async(() -> a.create("/taken.parquet", file("mine", 2)));
        assertThat(victim.proxy().awaitStalledRequest(LOST_REPLY)).as("A's create reached the proxy").isTrue();
        b.create("/taken.parquet", theirs);
        victim.proxy().releaseRequests();

        assertThat(within(WAIT, outcome)).isInstanceOf(AlreadyExistsException.class);
        lost.await(LOST_REPLY);
        assertThat(b.stat("/taken.parquet")).contains(new Versioned<>(theirs, 0));
        assertThat(a.stat("/taken.parquet")).contains(new Versioned<>(theirs, 0));
    }

    @Test
    void updateWhoseReplyIsLostAfterTheServerAppliedItReturnsTheNextVersionAndTheNewMetadata() throws Exception {
        String name = storeName("update-lost");
        ProxiedClient victim = proxied();
        FileMetadataStore a = open(victim.zk(), name);
        FileMetadataStore b = open(other(), name);
        String path = "/data/u.parquet";
        a.create(path, file("u0", 0));
        a.update(path, 0, file("u1", 1));
        FileMetadata next = file("u2", 2);
        LostReply lost = victim.proxy().loseNextReply(Opcodes.SET_DATA, Opcodes.MULTI);

        Versioned<FileMetadata> updated = a.update(path, 1, next);

        lost.await(LOST_REPLY);
        assertThat(updated).isEqualTo(new Versioned<>(next, 2));
        assertThat(a.stat(path)).contains(new Versioned<>(next, 2));
        await().atMost(WAIT).untilAsserted(() -> assertThat(b.stat(path)).contains(new Versioned<>(next, 2)));
    }

    @Test
    void staleUpdateStillFailsWithVersionConflictWhenItsReplyIsLost() throws Exception {
        String name = storeName("update-stale-lost");
        ProxiedClient victim = proxied();
        FileMetadataStore a = open(victim.zk(), name);
        FileMetadataStore b = open(other(), name);
        String path = "/stale.parquet";
        a.create(path, file("s0", 0));
        await().atMost(WAIT).until(() -> b.stat(path).isPresent());
        FileMetadata theirs = file("theirs", 7);
        victim.proxy().stallRequestsFrom(Opcodes.WRITES);
        LostReply lost = victim.proxy().loseNextReply(Opcodes.WRITES);

        Future<Throwable> outcome = async(() -> a.update(path, 0, file("mine", 9)));
        assertThat(victim.proxy().awaitStalledRequest(LOST_REPLY)).as("A's update reached the proxy").isTrue();
        b.update(path, 0, theirs);
        victim.proxy().releaseRequests();

        assertThat(within(WAIT, outcome)).isInstanceOf(VersionConflictException.class);
        lost.await(LOST_REPLY);
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(3))
                .until(() -> b.stat(path).equals(Optional.of(new Versioned<>(theirs, 1))));
    }

    @Test
    void renameWhoseReplyIsLostAfterTheServerAppliedItReturnsNormallyAndTheTreeIsMoved() throws Exception {
        String name = storeName("rename-lost");
        ProxiedClient victim = proxied();
        FileMetadataStore a = open(victim.zk(), name);
        FileMetadataStore b = open(other(), name);
        FileMetadata f1 = file("f1", 1);
        FileMetadata f2 = file("f2", 2);
        a.create("/src/sub/f1.parquet", f1);
        a.create("/src/f2.parquet", f2);
        LostReply lost = victim.proxy().loseNextReply(Opcodes.MULTI);

        a.rename("/src", "/dst");

        lost.await(LOST_REPLY);
        assertThat(a.stat("/dst/sub/f1.parquet").map(Versioned::value)).contains(f1);
        assertThat(a.stat("/src")).isEmpty();
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(b.stat("/dst/sub/f1.parquet").map(Versioned::value)).contains(f1);
            assertThat(b.stat("/dst/f2.parquet").map(Versioned::value)).contains(f2);
            assertThat(b.stat("/src")).isEmpty();
            assertThat(b.stat("/src/f2.parquet")).isEmpty();
            assertThat(b.list("/")).containsExactly("dst");
        });
    }

    @Test
    void deleteWhoseReplyIsLostAfterTheServerAppliedItReturnsNormallyAndTheFileIsGone() throws Exception {
        String name = storeName("delete-lost");
        ProxiedClient victim = proxied();
        FileMetadataStore a = open(victim.zk(), name);
        FileMetadataStore b = open(other(), name);
        a.create("/dir/gone.parquet", file("gone", 1));
        await().atMost(WAIT).until(() -> b.stat("/dir/gone.parquet").isPresent());
        LostReply lost = victim.proxy().loseNextReply(Opcodes.DELETE, Opcodes.MULTI);

        a.delete("/dir/gone.parquet");

        lost.await(LOST_REPLY);
        assertThat(a.stat("/dir/gone.parquet")).isEmpty();
        await().atMost(WAIT).untilAsserted(() -> assertThat(b.stat("/dir/gone.parquet")).isEmpty());
        assertThat(b.list("/dir")).isEmpty();
    }

    @Test
    void recursiveDeleteWhoseReplyIsLostAfterTheServerAppliedItReturnsNormallyAndTheTreeIsGone() throws Exception {
        String name = storeName("delete-tree-lost");
        ProxiedClient victim = proxied();
        FileMetadataStore a = open(victim.zk(), name);
        FileMetadataStore b = open(other(), name);
        a.create("/tree/a/f1.parquet", file("t1", 1));
        a.create("/tree/f2.parquet", file("t2", 2));
        a.create("/kept.parquet", file("kept", 3));
        LostReply lost = victim.proxy().loseNextReply(Opcodes.DELETE, Opcodes.MULTI);

        a.delete("/tree", true);

        lost.await(LOST_REPLY);
        assertThat(a.stat("/tree")).isEmpty();
        await().atMost(WAIT).untilAsserted(() -> assertThat(b.list("/")).containsExactly("kept.parquet"));
        assertThat(b.stat("/tree/a/f1.parquet")).isEmpty();
    }

    // ---- 2. after close() ----

    /** Every write of the store, on a tree holding the file /f (version 0) and the directory /d/e. */
    enum Write {
        CREATE(s -> s.create("/new.parquet", file("new", 1))),
        UPDATE(s -> s.update("/f", 0, file("f-next", 2))),
        DELETE(s -> s.delete("/f")),
        DELETE_RECURSIVE(s -> s.delete("/d", true)),
        RENAME(s -> s.rename("/f", "/moved")),
        MKDIRS(s -> s.mkdirs("/new-dir/sub"));

        final Consumer<FileMetadataStore> call;

        Write(Consumer<FileMetadataStore> call) {
            this.call = call;
        }
    }

    @ParameterizedTest
    @EnumSource(Write.class)
    void writeAfterCloseIsRefusedWithIllegalStateWithinOneSecondAndChangesNothing(Write write) throws Exception {
        String name = storeName("closed-" + write);
        FileMetadataStore a = open(other(), name);
        FileMetadataStore b = open(other(), name);
        FileMetadata f = file("f", 1);
        a.create("/f", f);
        a.mkdirs("/d/e");
        a.close();

        Throwable outcome = within(Duration.ofSeconds(1), async(() -> write.call.accept(a)));

        assertThat(outcome).isInstanceOf(IllegalStateException.class);
        assertThat(b.stat("/f")).contains(new Versioned<>(f, 0));
        assertThat(b.stat("/d/e").map(v -> v.value().isDirectory())).contains(true);
        for (String absent : List.of("/new.parquet", "/moved", "/new-dir")) {
            assertThat(b.stat(absent)).as(absent).isEmpty();
        }
    }

    // ---- 3. read-your-writes ----

    @Test
    void everyWriteIsVisibleToThisStoresStatAsSoonAsItReturnsInFiftyRounds() throws Exception {
        String name = storeName("read-your-writes");
        FileMetadataStore a = open(proxied().zk(), name);
        for (int i = 0; i < 50; i++) {
            String dir = "/ryw/" + i;
            String path = dir + "/f.parquet";
            String renamed = dir + "/g.parquet";
            FileMetadata first = file("r" + i, i);
            FileMetadata second = file("r" + i + "-next", i + 1L);

            a.create(path, first);
            assertThat(a.stat(path)).as("round %d, after create", i).contains(new Versioned<>(first, 0));

            Versioned<FileMetadata> updated = a.update(path, 0, second);
            assertThat(updated).as("round %d, update's answer", i).isEqualTo(new Versioned<>(second, 1));
            assertThat(a.stat(path)).as("round %d, after update", i).contains(updated);

            a.rename(path, renamed);
            assertThat(a.stat(path)).as("round %d, old name after rename", i).isEmpty();
            assertThat(a.stat(renamed).map(Versioned::value)).as("round %d, new name after rename", i).contains(second);

            a.rename(dir, "/moved-" + i);
            assertThat(a.stat(renamed)).as("round %d, old name after directory rename", i).isEmpty();
            assertThat(a.stat("/moved-" + i + "/g.parquet").map(Versioned::value))
                    .as("round %d, new name after directory rename", i).contains(second);

            a.delete("/moved-" + i, true);
            assertThat(a.stat("/moved-" + i + "/g.parquet")).as("round %d, after delete", i).isEmpty();
        }
    }

    // ---- 4. the tree stays a tree ----

    @Test
    void updateThatWouldTurnADirectoryIntoAFileIsRefusedAndChangesNothing() throws Exception {
        String name = storeName("dir-to-file");
        FileMetadataStore a = open(other(), name);
        a.create("/dir/child.parquet", file("child", 1));
        a.mkdirs("/empty-dir");

        for (String dir : List.of("/dir", "/empty-dir", "/")) {
            Versioned<FileMetadata> before = a.stat(dir).orElseThrow();
            assertThat(before.value().isDirectory()).as(dir).isTrue();

            assertThatThrownBy(() -> a.update(dir, before.version(), file("now-a-file", 1)))
                    .as("update of directory %s with file metadata", dir).isInstanceOf(IllegalArgumentException.class);

            assertThat(a.stat(dir)).as(dir).contains(before);
        }
        assertThat(a.list("/dir")).containsExactly("child.parquet");
        assertThat(a.list("/")).containsExactly("dir", "empty-dir");
        try (FileMetadataStore fresh = FileMetadataStore.open(zk.client(0), name)) {
            assertThat(fresh.stat("/").orElseThrow().value().isDirectory()).isTrue();
            assertThat(fresh.stat("/dir").orElseThrow().value().isDirectory()).isTrue();
            assertThat(fresh.stat("/empty-dir").orElseThrow().value().isDirectory()).isTrue();
        }
    }

    @Test
    void createBelowADirectoryAnotherClientReplacedByAFileFailsWithNotADirectoryAndAddsNoChild() throws Exception {
        String name = storeName("parent-replaced");
        ProxiedClient victim = proxied();
        FileMetadataStore a = open(victim.zk(), name);
        FileMetadataStore b = open(other(), name);

        // settled: the file is already there when A looks
        a.create("/settled/x.parquet", file("settled-x", 1));
        b.delete("/settled", true);
        String settledMarker = "settled-replacement-" + NAMES.incrementAndGet();
        b.create("/settled", file(settledMarker, 1));
        assertThatThrownBy(() -> a.create("/settled/f.parquet", file("settled-f", 1))).isInstanceOf(NotADirectoryException.class);
        assertNoEntryBelowFile(name, b, "/settled", settledMarker, "f.parquet");

        // raced: B replaces the directory after A read it, before A's write reaches the server;
        // in the later rounds the replacing file even has the version the directory had
        for (int round = 0; round < 4; round++) {
            String dir = "/raced-" + round;
            String child = round % 2 == 0 ? "f.parquet" : "new-sub";
            String target = round % 2 == 0 ? dir + "/f.parquet" : dir + "/new-sub/f.parquet";
            a.create(dir + "/x.parquet", file("x-" + round, 1));
            await().atMost(WAIT).until(() -> b.stat(dir + "/x.parquet").isPresent());
            int directoryVersion = b.stat(dir).orElseThrow().version();
            victim.proxy().stallRequestsFrom(Opcodes.WRITES);

            FileMetadata targetMeta = file("target-" + round, 1);
            Future<Throwable> outcome = async(() -> a.create(target, targetMeta));
            assertThat(victim.proxy().awaitStalledRequest(LOST_REPLY)).as("round %d: A's write reached the proxy", round).isTrue();
            b.delete(dir, true);
            String marker = "raced-replacement-" + NAMES.incrementAndGet();
            b.create(dir, file(marker, 1));
            for (int v = 0; round >= 2 && v < directoryVersion; v++) {
                b.update(dir, v, file(marker, v + 2L));
            }
            victim.proxy().releaseRequests();

            Throwable t = within(WAIT, outcome);
            assertThat(t).as("round %d: A's create of %s (directory version read %d; what B sees there now: %s)",
                    round, target, directoryVersion, b.stat(target)).isInstanceOf(NotADirectoryException.class);
            assertNoEntryBelowFile(name, b, dir, marker, child);
            assertThat(a.stat(target)).as("round %d", round).isEmpty();
        }
    }

    @Test
    void createWhoseParentAnotherClientDeletesMeanwhileSucceedsOrFailsWithNoSuchPathNeverAnotherError() throws Exception {
        String name = storeName("parent-deleted");
        ProxiedClient victim = proxied();
        FileMetadataStore a = open(victim.zk(), name);
        FileMetadataStore b = open(other(), name);
        List<String> wrong = new ArrayList<>();
        int round = 0;
        // A's write reaches the server after the parent is gone
        for (int i = 0; i < 2; i++) {
            raceParentDeleteWithStall(a, b, victim.proxy(), round++, "write", Opcodes.WRITES, wrong);
        }
        // A's read of the parent's metadata reaches the server after the parent is gone
        for (int i = 0; i < 2; i++) {
            raceParentDeleteWithStall(a, b, victim.proxy(), round++, "read", new int[] {Opcodes.GET_DATA}, wrong);
        }
        // both at once, no help
        for (int i = 0; i < 20; i++, round++) {
            String dir = "/p-" + round;
            String target = dir + (round % 2 == 0 ? "/f.parquet" : "/sub/f.parquet");
            a.mkdirs(dir);
            await().atMost(WAIT).until(() -> b.stat(dir).isPresent());
            CountDownLatch go = new CountDownLatch(1);
            Future<Throwable> create = async(() -> {
                go.await();
                a.create(target, file("free-" + target, 1));
            });
            Future<Throwable> delete = async(() -> {
                go.await();
                b.delete(dir, true);
            });
            go.countDown();
            Throwable t = within(WAIT, create);
            within(WAIT, delete); // its outcome is another test's business
            if (t != null && !(t instanceof NoSuchPathException)) {
                wrong.add("round " + round + " (free race): " + t);
            }
        }
        assertThat(wrong).as("outcomes other than success or NoSuchPathException").isEmpty();
    }

    private void raceParentDeleteWithStall(FileMetadataStore a, FileMetadataStore b, LoopbackProxy proxy, int round,
            String stalled, int[] stallFrom, List<String> wrong) throws Exception {
        String dir = "/p-" + round;
        String target = dir + (round % 2 == 0 ? "/f.parquet" : "/sub/f.parquet");
        a.mkdirs(dir);
        await().atMost(WAIT).until(() -> a.stat(dir).isPresent() && b.stat(dir).isPresent());
        proxy.stallRequestsFrom(stallFrom);
        Future<Throwable> outcome = async(() -> a.create(target, file("stalled-" + target, 1)));
        await().atMost(LOST_REPLY).until(() -> outcome.isDone() || proxy.awaitStalledRequest(Duration.ZERO));
        boolean raced = !outcome.isDone();
        if (raced) {
            b.delete(dir, true);
        }
        proxy.releaseRequests();
        Throwable t = within(WAIT, outcome);
        if (t != null && !(t instanceof NoSuchPathException)) {
            wrong.add("round " + round + " (" + stalled + " stalled, parent deleted meanwhile: " + raced + "): " + t);
        } else if (raced && t == null) {
            // it landed after the delete: then it made its parents again
            await().atMost(WAIT).untilAsserted(() -> {
                assertThat(b.stat(target)).as("round %d: created after its parent was deleted", round).isPresent();
                assertThat(b.stat(dir).orElseThrow().value().isDirectory()).isTrue();
            });
        } else if (raced) {
            assertThat(b.stat(target)).as("round %d: refused, so absent", round).isEmpty();
        }
    }

    @Test
    void recursiveDeleteWhileAnotherClientKeepsCreatingBelowRetriesUntilTheDirectoryIsGone() throws Exception {
        String name = storeName("delete-busy");
        FileMetadataStore a = open(proxied().zk(), name);
        for (int i = 0; i < 10; i++) {
            a.create("/busy/seed-" + i + ".parquet", file("busy-seed-" + i + "-" + name, i));
        }
        a.create("/busy/sub/deeper.parquet", file("busy-deeper", 1));
        // another client creates files straight below the directory's znode: unlike the store's
        // create, a raw create never makes the directory again once it is gone
        String seed = znodeOf(name, "busy-seed-0-" + name);
        String below = seed.substring(0, seed.lastIndexOf('/'));
        byte[] fileBytes = other().curator().getData().forPath(seed);
        AtomicInteger created = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        List<Throwable> creatorErrors = new CopyOnWriteArrayList<>();
        long creatorEnds = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        ScheduledExecutorService creator = Executors.newSingleThreadScheduledExecutor();
        toClose.push(creator::shutdownNow);
        creator.scheduleWithFixedDelay(() -> {
            if (System.nanoTime() > creatorEnds) {
                return;
            }
            try {
                other().curator().create().forPath(below + "/c-" + created.get() + "-" + refused.get(), fileBytes);
                created.incrementAndGet();
            } catch (KeeperException.NoNodeException gone) {
                refused.incrementAndGet();
            } catch (Exception e) {
                creatorErrors.add(e);
            }
        }, 0, 10, TimeUnit.MILLISECONDS);
        await().atMost(WAIT).until(() -> created.get() >= 10);

        Throwable outcome = within(Duration.ofSeconds(20), async(() -> a.delete("/busy", true)));

        creator.shutdown();
        assertThat(creator.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
        assertThat(outcome).as("recursive delete while %d files were created below", created.get()).isNull();
        assertThat(a.stat("/busy")).isEmpty();
        assertThat(other().curator().checkExists().forPath(below)).as(below).isNull();
        assertThat(znodes(name)).noneMatch(z -> z.contains("/busy") || z.contains("seed-") || z.contains("/c-"));
        assertThat(creatorErrors).isEmpty();
    }

    // ---- 5. limits, before sending ----

    static Stream<Arguments> pathsOverTheLimits() {
        return Stream.of(
                Arguments.of("one segment of 1100 'é', 2201 bytes", "/" + "é".repeat(1100)),
                Arguments.of("60 segments, 1260 bytes", segments(60, 21)),
                Arguments.of("65 levels, 130 bytes", "/d".repeat(65)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pathsOverTheLimits")
    void pathOverTheByteOrDepthLimitIsRefusedBeforeSendingAndTheClientIsNeverSuspended(String what, String path) throws Exception {
        String name = storeName("path-limits");
        ZkRecipes client = ownClient();
        List<ConnectionState> states = recordStates(client);
        FileMetadataStore a = open(client, name);
        a.create("/ok.parquet", file("ok", 1));
        SortedSet<String> before = znodes(name);

        assertThatThrownBy(() -> a.create(path, file("too-long", 1))).as("create").isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> a.mkdirs(path)).as("mkdirs").isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> a.rename("/ok.parquet", path)).as("rename").isInstanceOf(IllegalArgumentException.class);

        assertThat(znodes(name)).isEqualTo(before);
        assertNeverSuspended(states);
    }

    @Test
    void pathsJustInsideTheLimitsAreAccepted() throws Exception {
        String name = storeName("path-limits-inside");
        FileMetadataStore a = open(other(), name);
        String deepest = "/d".repeat(64);
        String longest = "/" + "é".repeat(511) + "a";
        assertThat(longest.getBytes(UTF_8)).hasSize(1024);

        a.create(deepest, file("deepest", 1));
        a.create(longest, file("longest", 1));

        assertThat(a.stat(deepest)).isPresent();
        assertThat(a.stat(longest)).isPresent();
    }

    @Test
    void createWhoseRequestIsTooBigForTheServerFailsWithPayloadTooLargeBeforeSendingAndTheClientIsNeverSuspended()
            throws Exception {
        String name = storeName("request-too-big");
        ZkRecipes client = ownClient();
        List<ConnectionState> states = recordStates(client);
        FileMetadataStore a = open(client, name);
        // the metadata alone fits; with 59 parent directories (and the path within its limits) the
        // one transaction that creates them all is over jute.maxbuffer
        FileMetadata big = FileMetadata.builder().size(1).attribute("blob", "x".repeat(client.maxPayloadBytes() - 2048)).build();
        String deep = segments(60, 16);
        SortedSet<String> before = znodes(name);

        Throwable outcome = within(Duration.ofSeconds(5), async(() -> a.create(deep, big)));

        assertThat(outcome).isInstanceOf(PayloadTooLargeException.class);
        assertThat(znodes(name)).isEqualTo(before);
        assertNeverSuspended(states);
        // control: the same metadata at a shallow path is accepted
        a.create("/shallow.parquet", big);
        assertThat(a.stat("/shallow.parquet").map(Versioned::value)).contains(big);
    }

    // ---- 6. garbage written by an operator ----

    static Stream<Arguments> garbage() {
        return Stream.of(
                Arguments.of("binary", new byte[] {0, (byte) 0xff, 'g', 'a', 'r', 'b', 'a', 'g', 'e', '{'}),
                Arguments.of("foreign JSON", "{\"hello\":\"world\"}".getBytes(UTF_8)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("garbage")
    void entryWithGarbageMetadataIsReportedCorruptByStatAndNeverOverwrittenByUpdate(String what, byte[] garbage) throws Exception {
        String name = storeName("corrupt");
        FileMetadataStore a = open(proxied().zk(), name);
        String path = "/corrupt/entry.parquet";
        String marker = "corrupt-" + NAMES.incrementAndGet();
        FileMetadata good = file(marker, 5);
        a.create(path, good);
        String znode = znodeOf(name, marker);

        other().curator().setData().forPath(znode, garbage);

        // the live store: until its copy learns of the garbage it may show the old metadata, never the garbage
        AtomicReference<Object> servedInstead = new AtomicReference<>();
        await().atMost(WAIT).until(() -> {
            try {
                Optional<Versioned<FileMetadata>> seen = a.stat(path);
                if (!seen.equals(Optional.of(new Versioned<>(good, 0)))) {
                    servedInstead.set(seen);
                    return true;
                }
                return false;
            } catch (CorruptDataException expected) {
                assertThat(expected).hasMessageContaining(path);
                return true;
            } catch (RuntimeException e) {
                servedInstead.set(e);
                return true;
            }
        });
        assertThat(servedInstead.get()).as("what stat served instead of CorruptDataException").isNull();
        // a store opened afterwards
        FileMetadataStore b = open(other(), name);
        assertThatThrownBy(() -> b.stat(path)).isInstanceOf(CorruptDataException.class).hasMessageContaining(path);

        int version = other().curator().checkExists().forPath(znode).getVersion();
        assertThatThrownBy(() -> a.update(path, version, file(marker + "-fixed", 6)))
                .isInstanceOf(CorruptDataException.class).hasMessageContaining(path);
        assertThatThrownBy(() -> b.update(path, version, file(marker + "-fixed", 6)))
                .isInstanceOf(CorruptDataException.class).hasMessageContaining(path);
        assertThat(other().curator().getData().forPath(znode)).isEqualTo(garbage);
    }

    // ---- 7. stores nested in each other's names ----

    // Design decision: nested store names are refused rather than kept apart. The inner store's
    // root would be an entry of the outer store's tree; hiding it would make the outer store's
    // rename and recursive delete of a directory carry another store along.

    @Test
    void aStoreNestedInsideAnotherStoresNameIsRefusedAndTheOuterStoreIsUntouched() throws Exception {
        int n = NAMES.incrementAndGet();
        FileMetadataStore outer = open(other(), "warehouse-" + n);
        outer.create("/top.parquet", file("outer-top", 1));

        assertThatThrownBy(() -> FileMetadataStore.open(other(), "warehouse-" + n + "/eu"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must not nest");
        assertThat(outer.list("/")).containsExactly("top.parquet");
    }

    @Test
    void anOuterStoreWhoseNameHoldsAnotherStoreIsRefusedAndTheInnerStoreIsUntouched() throws Exception {
        int n = NAMES.incrementAndGet();
        FileMetadataStore inner = open(other(), "warehouse-" + n + "/eu");
        inner.create("/kept.parquet", file("inner-kept", 1));

        assertThatThrownBy(() -> FileMetadataStore.open(other(), "warehouse-" + n))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must not nest");
        assertThat(inner.list("/")).containsExactly("kept.parquet");
        assertThat(inner.stat("/kept.parquet").map(Versioned::value)).contains(file("inner-kept", 1));
    }

    // ---- helpers ----

    private static String storeName(String what) {
        return "it/fs-ambiguity/" + what + "-" + NAMES.incrementAndGet();
    }

    private static ZkRecipes other() {
        return zk.client(0);
    }

    private ProxiedClient proxied() {
        ProxiedClient c = zk.proxiedClient(SESSION);
        toClose.push(c);
        return c;
    }

    private ZkRecipes ownClient() {
        ZkRecipes c = Clients.connect(zk.connectString(), SESSION);
        toClose.push(c);
        return c;
    }

    private FileMetadataStore open(ZkRecipes client, String name) throws InterruptedException {
        FileMetadataStore s = FileMetadataStore.open(client, name);
        toClose.push(s);
        return s;
    }

    private static FileMetadata file(String tag, long size) {
        return FileMetadata.builder().size(size).checksum("sha256:" + tag).owner("etl").build();
    }

    private static int[] anyOf(int[] group, int... more) {
        return IntStream.concat(Arrays.stream(group), Arrays.stream(more)).toArray();
    }

    private static String parentOf(String path) {
        int i = path.lastIndexOf('/');
        return i <= 0 ? "/" : path.substring(0, i);
    }

    /** {@code count} segments of {@code bytesEach} bytes each, the '/' included. */
    private static String segments(int count, int bytesEach) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < count; i++) {
            String segment = "/s" + String.format("%03d", i);
            b.append(segment).append("x".repeat(bytesEach - segment.length()));
        }
        return b.toString();
    }

    @FunctionalInterface
    private interface Body {
        void run() throws Exception;
    }

    /** Runs {@code body} on its own thread; the future holds what it threw, or null. */
    private Future<Throwable> async(Body body) {
        return threads.submit((Callable<Throwable>) () -> {
            try {
                body.run();
                return null;
            } catch (Throwable t) {
                return t;
            }
        });
    }

    /** What {@code outcome} threw (null if nothing), failing if it is still running after {@code bound}. */
    private static Throwable within(Duration bound, Future<Throwable> outcome) throws InterruptedException {
        try {
            return outcome.get(bound.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("the call was still running after " + bound);
        } catch (ExecutionException e) {
            return e.getCause();
        }
    }

    private static List<ConnectionState> recordStates(ZkRecipes client) {
        List<ConnectionState> states = new CopyOnWriteArrayList<>();
        client.curator().getConnectionStateListenable().addListener((c, s) -> states.add(s));
        return states;
    }

    private static void assertNeverSuspended(List<ConnectionState> states) {
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2))
                .until(() -> !states.contains(ConnectionState.SUSPENDED) && !states.contains(ConnectionState.LOST));
        assertThat(states).doesNotContain(ConnectionState.SUSPENDED, ConnectionState.LOST);
    }

    private static String base(String storeName) {
        return ZkRecipes.ROOT + "/fs/" + storeName;
    }

    /** Every znode at or below the store's root, as the ensemble has it now, whatever the layout. */
    private static SortedSet<String> znodes(String storeName) throws Exception {
        CuratorFramework c = other().curator();
        SortedSet<String> result = new TreeSet<>();
        Deque<String> todo = new ArrayDeque<>(List.of(base(storeName)));
        while (!todo.isEmpty()) {
            String node = todo.pop();
            List<String> children;
            try {
                children = c.getChildren().forPath(node);
            } catch (KeeperException.NoNodeException gone) {
                continue;
            }
            result.add(node);
            for (String child : children) {
                todo.push(node + "/" + child);
            }
        }
        return result;
    }

    /** The one znode whose data holds {@code marker} (written into an entry's checksum), whatever the layout. */
    private static String znodeOf(String storeName, String marker) throws Exception {
        byte[] needle = marker.getBytes(UTF_8);
        List<String> found = new ArrayList<>();
        for (String node : znodes(storeName)) {
            byte[] data;
            try {
                data = other().curator().getData().forPath(node);
            } catch (KeeperException.NoNodeException gone) {
                continue;
            }
            if (data != null && indexOf(data, needle) >= 0) {
                found.add(node);
            }
        }
        assertThat(found).as("znodes of store %s holding %s", storeName, marker).hasSize(1);
        return found.get(0);
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** {@code path} is a file (the one with {@code marker}) and nothing named {@code child} is below it. */
    private static void assertNoEntryBelowFile(String storeName, FileMetadataStore observer, String path, String marker,
            String child) throws Exception {
        Versioned<FileMetadata> replaced = observer.stat(path).orElseThrow();
        assertThat(replaced.value().isDirectory()).as("%s is a file", path).isFalse();
        assertThat(replaced.value().checksum()).contains("sha256:" + marker);
        assertThat(observer.stat(path + "/" + child)).as("%s/%s", path, child).isEmpty();
        String fileZnode = znodeOf(storeName, marker);
        SortedSet<String> below = new TreeSet<>(znodes(storeName).tailSet(fileZnode + "/"));
        below.removeIf(z -> !z.startsWith(fileZnode + "/"));
        assertThat(below).as("znodes below the file %s", fileZnode).noneMatch(z -> z.endsWith("/" + child));
        Stat stat = other().curator().checkExists().forPath(fileZnode);
        assertThat(stat).isNotNull();
    }
}
