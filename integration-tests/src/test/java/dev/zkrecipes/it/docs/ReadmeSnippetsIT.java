package dev.zkrecipes.it.docs;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.zkrecipes.config.ConfigStore;
import dev.zkrecipes.config.FileMetadata;
import dev.zkrecipes.config.FileMetadataStore;
import dev.zkrecipes.config.Versioned;
import dev.zkrecipes.core.SaslConfig;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.election.LeaderElector;
import dev.zkrecipes.election.Leadership;
import dev.zkrecipes.election.LeadershipListener;
import dev.zkrecipes.election.RevocationReason;
import dev.zkrecipes.lock.DistributedLock;
import dev.zkrecipes.lock.DistributedReadWriteLock;
import dev.zkrecipes.lock.DistributedSemaphore;
import dev.zkrecipes.lock.LockHandle;
import dev.zkrecipes.queue.ConsumeOptions;
import dev.zkrecipes.queue.Serializers;
import dev.zkrecipes.queue.Subscription;
import dev.zkrecipes.queue.Task;
import dev.zkrecipes.queue.TaskQueue;
import dev.zkrecipes.testing.EmbeddedZk;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every {@code java} block of the README compiles: each is copied, line for line, into a method of
 * this class (which the build compiles), and the test fails when a block of the README is not found
 * here any more, so a README example cannot drift from the API unnoticed. The lock, queue and config
 * blocks also run as written against a real server.
 */
class ReadmeSnippetsIT {

    private static final Path README = Path.of("..", "README.md");
    private static final Path THIS_SOURCE = Path.of("src", "test", "java", "dev", "zkrecipes", "it", "docs",
            "ReadmeSnippetsIT.java");

    @Test
    void everyJavaBlockOfTheReadmeIsCompiledHere() throws IOException {
        List<List<String>> blocks = javaBlocks(Files.readString(README, UTF_8));
        List<String> source = trimmedLines(Files.readString(THIS_SOURCE, UTF_8));

        assertThat(blocks).as("java blocks in the README").isNotEmpty();
        for (List<String> block : blocks) {
            assertThat(Collections.indexOfSubList(source, block))
                    .as("this README block is not compiled by ReadmeSnippetsIT (copy it into a method):%n%s",
                            String.join("\n", block))
                    .isGreaterThanOrEqualTo(0);
        }
    }

    @RegisterExtension
    static final EmbeddedZk zk = EmbeddedZk.withClients(1);

    /**
     * The blocks that need only a client run as written against a real server, in the context
     * their prose gives them (the node the lock example writes exists; shutdown is already due).
     * The election and client blocks name a fixed ensemble address, so they are compiled only.
     */
    @Test
    void theLockQueueAndConfigBlocksRunAsWritten() throws Exception {
        ZkRecipes client = zk.client(0);
        client.curator().create().creatingParentsIfNeeded().forPath("/orders/42/state");
        List<Object> stored = new ArrayList<>();
        lockQuickStart(client, "shipped".getBytes(UTF_8), (record, token) -> stored.add(token), "order 42");
        assertThat(stored).hasSize(1);
        assertThat(client.curator().getData().forPath("/orders/42/state")).isEqualTo("shipped".getBytes(UTF_8));

        queueQuickStart(client, new CountDownLatch(0));
        TaskQueue<String> q = TaskQueue.builder(client, "thumbnails", Serializers.utf8()).build();
        assertThat(q.size()).as("what the snippet put and did not take").isBetween(0L, 4L);

        configQuickStart(client);
        try (ConfigStore cfg = ConfigStore.open(client, "billing")) {
            assertThat(cfg.get("db.port")).contains("5433");
            assertThat(cfg.get("leader")).contains("node-2");
        }
    }

    /**
     * The election block names 127.0.0.1:2181: it runs as written against a server started on that
     * port (when the port is free on this machine), and the client block builds its clients as
     * written (building connects to nothing).
     */
    @Test
    void theElectionAndClientBlocksRunAsWritten() throws Exception {
        boolean portFree;
        try (java.net.ServerSocket probe = new java.net.ServerSocket(2181, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            portFree = true;
        } catch (IOException taken) {
            portFree = false;
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(portFree, "port 2181 is taken on this machine");
        try (org.apache.curator.test.TestingServer server = new org.apache.curator.test.TestingServer(2181, true)) {
            ZkRecipes setup = dev.zkrecipes.testing.Clients.connect(server.getConnectString());
            try (setup) {
                setup.curator().create().creatingParentsIfNeeded().forPath("/jobs/owner");
                List<Leadership> started = new java.util.concurrent.CopyOnWriteArrayList<>();
                electionQuickStart(new Scheduler() {
                    @Override
                    public void startUnder(Leadership term) {
                        started.add(term);
                    }

                    @Override
                    public void stop() {
                    }
                });
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> started.size() == 1);
                assertThat(setup.curator().getData().forPath("/jobs/owner")).isEqualTo("node-1".getBytes(UTF_8));
            }
        }
        CuratorFramework existing = org.apache.curator.framework.CuratorFrameworkFactory.newClient("127.0.0.1:1",
                new org.apache.curator.retry.RetryOneTime(1));
        client(existing);
        existing.close();
    }

    private static List<List<String>> javaBlocks(String markdown) {
        List<List<String>> blocks = new ArrayList<>();
        Matcher m = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL).matcher(markdown);
        while (m.find()) {
            blocks.add(trimmedLines(m.group(1)));
        }
        return blocks;
    }

    private static List<String> trimmedLines(String text) {
        List<String> lines = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (!line.isBlank()) {
                lines.add(line.strip());
            }
        }
        return lines;
    }

    // ---- the README's blocks, each in a context that declares what it uses ----

    private static final Logger log = LoggerFactory.getLogger(ReadmeSnippetsIT.class);

    interface Scheduler {
        void startUnder(Leadership term);

        void stop();
    }

    interface Storage {
        void write(Object record, Object token);
    }

    static void render(String payload) {
    }

    void electionQuickStart(Scheduler scheduler) throws Exception {
try (ZkRecipes zk = ZkRecipes.builder().connectString("127.0.0.1:2181").build()) {
    zk.start();
    zk.awaitConnected(Duration.ofSeconds(10));
    try (LeaderElector elector = LeaderElector.builder(zk, "scheduler")
            .participantId("node-1")
            .data("10.0.0.5:8080".getBytes(UTF_8))          // what others read about the leader
            .listener(new LeadershipListener() {
                public void elected(Leadership term) { scheduler.startUnder(term); }
                public void revoked(Leadership term, RevocationReason why) { scheduler.stop(); }
            })
            .build()) {
        elector.start();
        // a write that must never come from a superseded leader:
        elector.awaitLeadership(Duration.ofSeconds(5)).ifPresent(term ->
                term.commit(zk.ops().setData("/jobs/owner", "node-1".getBytes(UTF_8))));
    }
}
    }

    void lockQuickStart(ZkRecipes zk, byte[] bytes, Storage storage, Object record) throws Exception {
DistributedLock lock = DistributedLock.of(zk, "orders/42");
try (LockHandle h = lock.acquire()) {                  // or lock.tryAcquire(Duration.ofMillis(200))
    h.commit(zk.ops().setData("/orders/42/state", bytes)); // refused once h is not the holder
    storage.write(record, h.token());                   // or hand the token to a resource that rejects older ones
}
DistributedReadWriteLock rw = DistributedReadWriteLock.of(zk, "catalog");   // rw.readLock(), rw.writeLock()
DistributedSemaphore sem = DistributedSemaphore.of(zk, "api-quota", 5);      // try (Permit p = sem.acquire()) { ... }
    }

    void queueQuickStart(ZkRecipes zk, CountDownLatch shutdown) throws Exception {
TaskQueue<String> q = TaskQueue.builder(zk, "thumbnails", Serializers.utf8())
        .maxAttempts(5)                                   // then the task goes to q.deadLetters(n)
        .build();
q.put("img-1");  q.putAll(List.of("img-2", "img-3"));    // putAll: one atomic transaction
q.putAsync("img-4");                                      // pipelined: a future per put
Optional<Task<String>> t = q.poll(Duration.ofSeconds(1)); // claims one; t.get().ack() or .release()
try (Subscription s = q.consume(task -> render(task.payload()), ConsumeOptions.concurrency(4))) { shutdown.await(); }
    }

    void configQuickStart(ZkRecipes zk) throws Exception {
try (ConfigStore cfg = ConfigStore.open(zk, "billing")) {        // ready when open returns
    int workers = cfg.getInt("workers", 4);
    Duration t = cfg.getDuration("timeout", Duration.ofSeconds(30)); // 250ms, 30s, 5m, PT1M
    cfg.putAll(Map.of("db.host", "10.0.0.7", "db.port", "5433"));    // atomic for every reader
    cfg.compareAndSet("leader", cfg.getVersioned("leader").map(Versioned::version).orElse(-1), "node-2"); // or VersionConflictException
    cfg.addListener(change -> log.info("{}: {} -> {}", change.key(), change.oldValue(), change.newValue()));
}
try (FileMetadataStore fs = FileMetadataStore.open(zk, "warehouse")) {
    fs.create("/raw/2026/11/a.parquet", FileMetadata.builder().size(1024).checksum("sha256:..").build());
    fs.rename("/raw/2026/11", "/archive/2026/11");                 // a whole directory, one transaction
    fs.watch("/raw", event -> log.info("{} {}", event.type(), event.path()));
}
    }

    void client(CuratorFramework existingCurator) {
ZkRecipes zk = ZkRecipes.builder()
        .connectString("zk1:2181,zk2:2181,zk3:2181")
        .namespace("myapp")                      // optional chroot
        .sessionTimeout(Duration.ofSeconds(15))  // default 15 s
        .connectionTimeout(Duration.ofSeconds(5))// default 5 s
        .digestAuth("svc", "secret")             // optional: see "Access control" below
        .build();
ZkRecipes shared = ZkRecipes.wrap(existingCurator); // close() leaves a wrapped client open
    }

    void sasl(String password) {
ZkRecipes orders = ZkRecipes.builder().connectString("zk1:2181")
        .sasl(SaslConfig.digest("orders", password))       // DIGEST-MD5, no JAAS file
        .build();
ZkRecipes billing = ZkRecipes.builder().connectString("zk1:2181")
        .sasl(SaslConfig.jaasSection("ZkClient"))          // Kerberos or any JAAS login
        .build();
    }
}
