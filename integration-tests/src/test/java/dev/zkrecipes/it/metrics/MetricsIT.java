package dev.zkrecipes.it.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zkrecipes.config.ConfigStore;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.election.LeaderElector;
import dev.zkrecipes.lock.DistributedLock;
import dev.zkrecipes.lock.LockHandle;
import dev.zkrecipes.queue.Serializers;
import dev.zkrecipes.queue.TaskQueue;
import dev.zkrecipes.testing.EmbeddedZk;
import dev.zkrecipes.testing.ZkServers;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each recipe's meters on a {@link SimpleMeterRegistry}, driven for real; and the library without
 * Micrometer on the classpath at all.
 */
class MetricsIT {

    @RegisterExtension
    static final EmbeddedZk zk = EmbeddedZk.withClients(1);

    private static final Duration WAIT = Duration.ofSeconds(10);

    private SimpleMeterRegistry registry;
    private ZkRecipes client;

    @BeforeEach
    void connect() throws InterruptedException {
        registry = new SimpleMeterRegistry();
        client = ZkRecipes.builder().connectString(zk.connectString()).meterRegistry(registry).build();
        client.start();
        assertThat(client.awaitConnected(WAIT)).isTrue();
    }

    @AfterEach
    void close() {
        ZkServers.closeQuietly(client);
    }

    private double count(String name, String... tags) {
        Counter c = registry.find(name).tags(tags).counter();
        return c == null ? 0 : c.count();
    }

    private long timed(String name, String... tags) {
        Timer t = registry.find(name).tags(tags).timer();
        return t == null ? 0 : t.count();
    }

    @Test
    void theConnectionStateIsOneWhileConnected() {
        await().atMost(WAIT).until(() -> registry.get("zkr.connection.state").gauge().value() == 1.0);
        assertThat(count("zkr.connection.changes", "state", "CONNECTED")).isEqualTo(1);
    }

    @Test
    void electionLeaderGaugeAndTerms() throws Exception {
        LeaderElector elector = LeaderElector.builder(client, "metrics-election").participantId("p1").build();
        try (elector) {
            elector.start();
            assertThat(elector.awaitLeadership(WAIT)).isPresent();
            await().atMost(WAIT).until(() -> registry.find("zkr.election.leader").tags("election", "metrics-election",
                    "participant", "p1").gauge() != null);
            assertThat(registry.get("zkr.election.leader").tags("participant", "p1").gauge().value()).isEqualTo(1.0);
            // alone in the election, it resigns and is elected again: two terms begun, one ended
            elector.resign();
            await().atMost(WAIT).until(() -> count("zkr.election.terms", "election", "metrics-election", "event", "begun") == 2);
            assertThat(count("zkr.election.terms", "election", "metrics-election", "event", "ended", "reason", "RESIGNED"))
                    .isEqualTo(1);
        }
        await().atMost(WAIT).until(() -> registry.get("zkr.election.leader").tags("participant", "p1").gauge().value() == 0.0);
    }

    @Test
    void lockAcquireByOutcomeAndHoldTime() throws Exception {
        DistributedLock lock = DistributedLock.of(client, "metrics-lock");
        try (LockHandle held = lock.acquire()) {
            assertThat(held.isValid()).isTrue();
            // another thread cannot have it meanwhile: a timeout
            boolean timedOut = CompletableFuture.supplyAsync(() -> {
                try {
                    return lock.tryAcquire(Duration.ofMillis(100)).isEmpty();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }).get(10, TimeUnit.SECONDS);
            assertThat(timedOut).isTrue();
        }
        assertThat(timed("zkr.lock.acquire", "lock", "metrics-lock", "outcome", "acquired")).isEqualTo(1);
        assertThat(timed("zkr.lock.acquire", "lock", "metrics-lock", "outcome", "timeout")).isEqualTo(1);
        assertThat(timed("zkr.lock.held", "lock", "metrics-lock", "end", "released")).isEqualTo(1);
    }

    @Test
    void queuePutsDeliveriesAcksReleasesAndDeadLetters() throws Exception {
        TaskQueue<String> q = TaskQueue.builder(client, "metrics-queue", Serializers.utf8()).maxAttempts(1).build();
        q.put("a");
        q.putAll(java.util.List.of("b", "c"));
        q.putAsync("d").get(10, TimeUnit.SECONDS);
        assertThat(count("zkr.queue.put", "queue", "metrics-queue")).isEqualTo(4);

        q.poll(WAIT).orElseThrow().ack();
        q.poll(WAIT).orElseThrow().release();  // its only attempt: to the dead letters
        assertThat(count("zkr.queue.deliveries", "queue", "metrics-queue", "attempt", "1")).isEqualTo(2);
        assertThat(count("zkr.queue.ack", "queue", "metrics-queue")).isEqualTo(1);
        assertThat(timed("zkr.queue.claim.to.ack", "queue", "metrics-queue")).isEqualTo(1);
        assertThat(count("zkr.queue.release", "queue", "metrics-queue")).isEqualTo(1);
        assertThat(count("zkr.queue.dead", "queue", "metrics-queue")).isEqualTo(1);
        assertThat(timed("zkr.queue.age", "queue", "metrics-queue")).isEqualTo(2);
    }

    @Test
    void configChangesSeenFromTheEnsemble() throws Exception {
        try (ConfigStore store = ConfigStore.open(client, "metrics-config");
                ConfigStore other = ConfigStore.open(zk.client(0), "metrics-config")) {
            other.putAll(java.util.Map.of("a", "1", "b", "2"));
            await().atMost(WAIT).until(() -> count("zkr.store.changes", "store", "metrics-config") >= 2);
        }
    }

    @Test
    void theLibraryRunsWithoutMicrometerOnTheClasspath(@TempDir Path dir) throws Exception {
        String classpath = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(entry -> !entry.contains("micrometer"))
                .collect(Collectors.joining(File.pathSeparator));
        assertThat(classpath).doesNotContain("micrometer");
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path log = dir.resolve("out.log");
        Process p = new ProcessBuilder(javaBin, "-cp", classpath, WithoutMicrometer.class.getName(), zk.connectString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(Files.readString(log)).isZero();
        assertThat(Files.readString(log)).contains("every recipe ran").doesNotContain("NoClassDefFoundError");
    }
}
