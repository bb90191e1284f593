package dev.zkrecipes.it.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.zkrecipes.config.FileEvent;
import dev.zkrecipes.config.FileMetadata;
import dev.zkrecipes.config.FileMetadataStore;
import dev.zkrecipes.config.Versioned;
import dev.zkrecipes.core.AlreadyExistsException;
import dev.zkrecipes.core.DirectoryNotEmptyException;
import dev.zkrecipes.core.NoSuchPathException;
import dev.zkrecipes.core.NotADirectoryException;
import dev.zkrecipes.core.PayloadTooLargeException;
import dev.zkrecipes.core.VersionConflictException;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.testing.Clients;
import dev.zkrecipes.testing.ZkServers;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

class FileMetadataStoreIT {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static TestingServer server;
    private static ZkRecipes zkA;
    private static ZkRecipes zkB;
    private FileMetadataStore a;
    private FileMetadataStore b;

    @BeforeAll
    static void start() {
        server = ZkServers.startServer();
        zkA = Clients.connect(server.getConnectString());
        zkB = Clients.connect(server.getConnectString());
    }

    @AfterAll
    static void stop() {
        ZkServers.closeQuietly(zkA);
        ZkServers.closeQuietly(zkB);
        ZkServers.closeQuietly(server);
    }

    @BeforeEach
    void open(TestInfo info) throws Exception {
        String name = "it/" + info.getTestMethod().orElseThrow().getName();
        a = FileMetadataStore.open(zkA, name);
        b = FileMetadataStore.open(zkB, name);
    }

    @AfterEach
    void close() {
        a.close();
        b.close();
    }

    private static FileMetadata file(long size) {
        return FileMetadata.builder().size(size).checksum("sha256:" + size).owner("etl").modified(Instant.parse("2026-11-25T07:00:00Z"))
                .replicas(List.of("dn1", "dn2")).attribute("format", "parquet").build();
    }

    @Test
    void createMakesParentsAndStatListUpdateDeleteWork() {
        Versioned<FileMetadata> created = a.create("/raw/2026/11/a.parquet", file(1024));
        assertThat(created.version()).isZero();
        assertThat(a.stat("/raw/2026/11/a.parquet")).contains(new Versioned<>(file(1024), 0));
        assertThat(a.stat("/raw/2026").orElseThrow().value().isDirectory()).isTrue();
        assertThat(a.list("/raw/2026/11")).containsExactly("a.parquet");
        assertThat(a.list("/")).containsExactly("raw");

        Versioned<FileMetadata> updated = a.update("/raw/2026/11/a.parquet", 0, file(2048));
        assertThat(updated.version()).isEqualTo(1);
        assertThat(a.stat("/raw/2026/11/a.parquet").orElseThrow().value().size()).isEqualTo(2048);

        assertThatThrownBy(() -> a.delete("/raw/2026")).isInstanceOf(DirectoryNotEmptyException.class);
        a.delete("/raw/2026/11/a.parquet");
        assertThat(a.stat("/raw/2026/11/a.parquet")).isEmpty();
        a.delete("/raw", true);
        assertThat(a.list("/")).isEmpty();
    }

    @Test
    void typedErrorsForExistingMissingFileParentAndStaleVersion() {
        a.create("/f", file(1));
        assertThatThrownBy(() -> a.create("/f", file(1))).isInstanceOf(AlreadyExistsException.class).hasMessageContaining("'/f'");
        assertThatThrownBy(() -> a.create("/f/child", file(1))).isInstanceOf(NotADirectoryException.class);
        assertThatThrownBy(() -> a.list("/f")).isInstanceOf(NotADirectoryException.class);
        assertThatThrownBy(() -> a.list("/missing")).isInstanceOf(NoSuchPathException.class);
        assertThatThrownBy(() -> a.update("/missing", 0, file(1))).isInstanceOf(NoSuchPathException.class);
        assertThatThrownBy(() -> a.update("/f", 7, file(2))).isInstanceOf(VersionConflictException.class);
        assertThatThrownBy(() -> a.delete("/missing")).isInstanceOf(NoSuchPathException.class);
        assertThatThrownBy(() -> a.rename("/missing", "/x")).isInstanceOf(NoSuchPathException.class);
    }

    @Test
    void renameIntoAMissingParentCreatesIt() {
        a.create("/moving", file(3));
        a.rename("/moving", "/new/parent/moved");
        assertThat(a.stat("/new/parent").orElseThrow().value().isDirectory()).isTrue();
        assertThat(a.stat("/new/parent/moved").orElseThrow().value()).isEqualTo(file(3));
        assertThat(a.stat("/moving")).isEmpty();
    }

    @Test
    void badPathsAreRefusedBeforeAnythingIsWritten() {
        for (String bad : List.of("relative", "/a//b", "/a/./b", "/a/../b", "/trailing/", "/ctl\u0001")) {
            assertThatThrownBy(() -> a.create(bad, file(1))).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
        assertThat(a.list("/")).isEmpty();
    }

    @Test
    void aWriteOnOneClientReachesAnotherClientsWatchInOrder() {
        List<FileEvent> seen = new CopyOnWriteArrayList<>();
        b.watch("/data", seen::add);
        a.create("/data/x", file(1));
        await().atMost(WAIT).until(() -> seen.size() >= 2);
        a.update("/data/x", 0, file(2));
        await().atMost(WAIT).until(() -> seen.size() >= 3);
        a.create("/elsewhere", file(1));
        a.delete("/data/x");
        await().atMost(WAIT).until(() -> seen.size() >= 4);
        assertThat(seen).extracting(e -> e.type() + " " + e.path()).containsExactly(
                "CREATED /data", "CREATED /data/x", "UPDATED /data/x", "DELETED /data/x");
        assertThat(seen.get(2).metadata().orElseThrow().size()).isEqualTo(2);
        await().atMost(WAIT).until(() -> b.stat("/elsewhere").isPresent());
    }

    @Test
    void updateRaceBetweenClientsHasExactlyOneWinner() throws Exception {
        a.create("/race", file(1));
        await().atMost(WAIT).until(() -> b.stat("/race").isPresent());
        List<CompletableFuture<Boolean>> attempts = new ArrayList<>();
        for (FileMetadataStore s : List.of(a, b, a, b)) {
            attempts.add(CompletableFuture.supplyAsync(() -> {
                try {
                    s.update("/race", 0, file(99));
                    return true;
                } catch (VersionConflictException lost) {
                    return false;
                }
            }));
        }
        int winners = 0;
        for (CompletableFuture<Boolean> f : attempts) {
            winners += f.get(10, TimeUnit.SECONDS) ? 1 : 0;
        }
        assertThat(winners).isEqualTo(1);
    }

    @Test
    void renameIsAtomicForAConcurrentReader() throws Exception {
        a.create("/dir/a", file(1));
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger bad = new AtomicInteger();
        AtomicInteger reads = new AtomicInteger();
        CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> {
            while (!stop.get()) {
                List<String> names = b.list("/dir");
                if (names.size() != 1) {
                    bad.incrementAndGet();
                }
                reads.incrementAndGet();
            }
        });
        for (int i = 0; i < 20; i++) {
            a.rename(i % 2 == 0 ? "/dir/a" : "/dir/b", i % 2 == 0 ? "/dir/b" : "/dir/a");
        }
        stop.set(true);
        reader.get(10, TimeUnit.SECONDS);
        assertThat(bad.get()).isZero();
        assertThat(reads.get()).isPositive();
        assertThat(a.list("/dir")).containsExactly("a");
    }

    @Test
    void anUpdateThatSucceededIsNeverLostToAConcurrentRename() throws Exception {
        a.create("/x", file(0));
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger lastConfirmed = new AtomicInteger();
        CompletableFuture<Void> updater = CompletableFuture.runAsync(() -> {
            int next = 1;
            while (!stop.get()) {
                for (String path : List.of("/x", "/y")) {
                    var current = b.stat(path);
                    if (current.isEmpty()) {
                        continue;
                    }
                    try {
                        b.update(path, current.get().version(), file(next));
                        lastConfirmed.set(next++);
                    } catch (VersionConflictException | NoSuchPathException raced) {
                        // the rename moved it, or copied it first: look again
                    }
                }
            }
        });
        int gaveUp = 0;
        for (int i = 0; i < 40; i++) {
            try {
                a.rename(i % 2 == 0 ? "/x" : "/y", i % 2 == 0 ? "/y" : "/x");
            } catch (VersionConflictException hot) {
                // a rename that lost every attempt to this tight update loop says so, typed: the
                // caller retries (CI saw one); what must never happen is a confirmed update lost
                gaveUp++;
                i--;
                assertThat(gaveUp).as("renames given up against the update loop").isLessThan(20);
            }
        }
        stop.set(true);
        updater.get(10, TimeUnit.SECONDS);
        long onServer = MetadataOnServer.size(zkA, "/zkr/fs/" + a.name() + "/x");
        assertThat(lastConfirmed.get()).isPositive();
        assertThat(onServer).isEqualTo(lastConfirmed.get());
    }

    /** Reads an entry's size straight from the ensemble, bypassing every local copy. */
    private static final class MetadataOnServer {
        static long size(ZkRecipes zk, String zkPath) throws Exception {
            String json = new String(zk.curator().getData().forPath(zkPath), java.nio.charset.StandardCharsets.UTF_8);
            return Long.parseLong(json.replaceAll(".*\"size\":(\\d+).*", "$1"));
        }
    }

    @Test
    void renameMovesAWholeDirectoryAndRefusesWhatDoesNotFitInOneTransaction() {
        for (int i = 0; i < 10; i++) {
            a.create("/in/sub/f" + i, file(i));
        }
        a.rename("/in", "/out");
        assertThat(a.list("/out/sub")).hasSize(10);
        assertThat(a.stat("/out/sub/f3").orElseThrow().value()).isEqualTo(file(3));
        assertThat(a.stat("/in")).isEmpty();
        assertThatThrownBy(() -> a.rename("/out", "/out/inside")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> a.rename("/out/sub/f1", "/out/sub/f2")).isInstanceOf(AlreadyExistsException.class);

        FileMetadata big = FileMetadata.builder().attribute("blob", "x".repeat(200_000)).build();
        for (int i = 0; i < 6; i++) {
            a.create("/big/f" + i, big);
        }
        assertThatThrownBy(() -> a.rename("/big", "/big2")).isInstanceOf(PayloadTooLargeException.class);
        assertThat(a.list("/big")).hasSize(6);
        assertThat(a.stat("/big2")).isEmpty();
    }
}
