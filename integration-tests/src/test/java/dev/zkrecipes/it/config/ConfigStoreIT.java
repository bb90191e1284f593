package dev.zkrecipes.it.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.zkrecipes.config.ConfigChange;
import dev.zkrecipes.config.ConfigStore;
import dev.zkrecipes.config.Versioned;
import dev.zkrecipes.core.PayloadTooLargeException;
import dev.zkrecipes.core.VersionConflictException;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.testing.EmbeddedZk;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.TestInfo;

/** ConfigStore on a real server, with stores on separate clients. */
class ConfigStoreIT {

    @RegisterExtension
    static final EmbeddedZk zk = EmbeddedZk.withClients(4);

    private static final Duration WAIT = Duration.ofSeconds(10);
    private String name;

    @BeforeEach
    void name(TestInfo info) {
        name = "it/" + info.getTestMethod().orElseThrow().getName();
    }

    @Test
    void aWriteOnOneClientReachesAnotherClientsListenerInOrder() throws Exception {
        try (ConfigStore a = ConfigStore.open(zk.client(0), name); ConfigStore b = ConfigStore.open(zk.client(1), name)) {
            List<ConfigChange> seen = new CopyOnWriteArrayList<>();
            b.addListener(seen::add);
            for (int i = 1; i <= 5; i++) {
                a.put("timeout", i + "s");
                int n = i;
                await().atMost(WAIT).until(() -> seen.size() == n);
            }
            a.delete("timeout");
            await().atMost(WAIT).until(() -> seen.size() == 6);

            assertThat(seen.get(0)).isEqualTo(new ConfigChange("timeout", Optional.empty(), Optional.of("1s")));
            assertThat(seen.subList(1, 5)).extracting(c -> c.newValue().orElseThrow()).containsExactly("2s", "3s", "4s", "5s");
            assertThat(seen.get(5)).isEqualTo(new ConfigChange("timeout", Optional.of("5s"), Optional.empty()));
            assertThat(b.snapshot()).isEqualTo(a.snapshot()).isEmpty();
        }
    }

    @Test
    void aProcessReadsItsOwnWritesAtOnce() throws Exception {
        try (ConfigStore a = ConfigStore.open(zk.client(0), name)) {
            for (int i = 0; i < 50; i++) {
                a.put("k", "v" + i);
                assertThat(a.get("k")).contains("v" + i);
            }
            a.putAll(Map.of("x", "1", "y", "2"));
            assertThat(a.get("x")).contains("1");
            assertThat(a.delete("x")).isTrue();
            assertThat(a.get("x")).isEmpty();
            assertThat(a.delete("x")).isFalse();
        }
    }

    @Test
    void anotherNodeNeverSeesHalfOfAPutAll() throws Exception {
        try (ConfigStore writer = ConfigStore.open(zk.client(0), name); ConfigStore reader = ConfigStore.open(zk.client(1), name)) {
            writer.putAll(Map.of("db.host", "h0", "db.port", "p0"));
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger torn = new AtomicInteger();
            AtomicInteger reads = new AtomicInteger();
            CompletableFuture<Void> reading = CompletableFuture.runAsync(() -> {
                while (!stop.get()) {
                    Map<String, Versioned<String>> s = reader.snapshot();
                    if (s.containsKey("db.host")
                            && !s.get("db.host").value().substring(1).equals(s.get("db.port").value().substring(1))) {
                        torn.incrementAndGet();
                    }
                    reads.incrementAndGet();
                }
            });
            for (int i = 1; i <= 100; i++) {
                writer.putAll(Map.of("db.host", "h" + i, "db.port", "p" + i));
            }
            await().atMost(WAIT).until(() -> reader.get("db.host").orElse("").equals("h100"));
            stop.set(true);
            reading.get(10, TimeUnit.SECONDS);
            assertThat(torn.get()).isZero();
            assertThat(reads.get()).isPositive();
            assertThat(reader.get("db.port")).contains("p100");
        }
    }

    @Test
    void compareAndSetRaceHasExactlyOneWinner() throws Exception {
        List<ConfigStore> stores = new ArrayList<>();
        try {
            for (ZkRecipes c : zk.clients()) {
                stores.add(ConfigStore.open(c, name));
            }
            int version = stores.get(0).put("leader", "none").version();
            await().atMost(WAIT).until(() -> stores.stream().allMatch(s -> s.get("leader").isPresent()));
            List<CompletableFuture<Boolean>> attempts = new ArrayList<>();
            for (int i = 0; i < stores.size(); i++) {
                ConfigStore s = stores.get(i);
                String me = "node-" + i;
                attempts.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        s.compareAndSet("leader", version, me);
                        return true;
                    } catch (VersionConflictException lost) {
                        return false;
                    }
                }));
            }
            long winners = 0;
            for (CompletableFuture<Boolean> a : attempts) {
                winners += a.get(10, TimeUnit.SECONDS) ? 1 : 0;
            }
            assertThat(winners).isEqualTo(1);
        } finally {
            stores.forEach(ConfigStore::close);
        }
    }

    @Test
    void staleVersionIsRejectedButWritesToOtherKeysDoNotConflict() throws Exception {
        try (ConfigStore a = ConfigStore.open(zk.client(0), name); ConfigStore b = ConfigStore.open(zk.client(1), name)) {
            int v = a.put("timeout", "30s").version();
            b.put("other", "x");
            Versioned<String> next = a.compareAndSet("timeout", v, "45s");
            assertThat(next.version()).isGreaterThan(v);
            assertThatThrownBy(() -> a.compareAndSet("timeout", v, "60s")).isInstanceOf(VersionConflictException.class)
                    .hasMessageContaining("'timeout'");
            assertThat(a.get("timeout")).contains("45s");
            assertThat(a.compareAndSet("fresh", -1, "new").value()).isEqualTo("new");
            assertThatThrownBy(() -> a.compareAndSet("fresh", -1, "again")).isInstanceOf(VersionConflictException.class);
        }
    }

    @Test
    void typedReadsParseOrUseTheDefault() throws Exception {
        try (ConfigStore a = ConfigStore.open(zk.client(0), name)) {
            a.putAll(Map.of("workers", "8", "big", "9000000000", "on", "TRUE", "wait", "250ms", "iso", "PT1M", "bad", "x"));
            assertThat(a.getInt("workers", 4)).isEqualTo(8);
            assertThat(a.getInt("missing", 4)).isEqualTo(4);
            assertThat(a.getLong("big", 0)).isEqualTo(9_000_000_000L);
            assertThat(a.getBoolean("on", false)).isTrue();
            assertThat(a.getDuration("wait", Duration.ZERO)).isEqualTo(Duration.ofMillis(250));
            assertThat(a.getDuration("iso", Duration.ZERO)).isEqualTo(Duration.ofMinutes(1));
            assertThatThrownBy(() -> a.getInt("bad", 1)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'bad' is 'x', not an int");
        }
    }

    @Test
    void badKeysAndOversizedValuesAreRefusedBeforeAnythingIsWritten() throws Exception {
        try (ConfigStore a = ConfigStore.open(zk.client(0), name)) {
            assertThatThrownBy(() -> a.put("a/b", "v")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'/'");
            assertThatThrownBy(() -> a.put("", "v")).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> a.put("tab\t", "v")).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> a.put("k", null)).isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> a.put("k", "x".repeat(zk.client(0).maxPayloadBytes())))
                    .isInstanceOf(PayloadTooLargeException.class);
            assertThatThrownBy(() -> ConfigStore.open(zk.client(0), "../x")).isInstanceOf(IllegalArgumentException.class);
            assertThat(zk.client(0).curator().checkExists().forPath("/zkr/config/" + name)).isNull();
        }
    }
}
