package dev.zkrecipes.it.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zkrecipes.config.ConfigChange;
import dev.zkrecipes.config.ConfigStore;
import dev.zkrecipes.config.FileEvent;
import dev.zkrecipes.config.FileMetadata;
import dev.zkrecipes.config.FileMetadataStore;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.testing.Clients;
import dev.zkrecipes.testing.ProxiedClient;
import dev.zkrecipes.testing.EmbeddedZk;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The local copies after a server restart and a session expiry: rebuilt, nothing missed, nothing stale. */
class ConfigFaultIT {

    @RegisterExtension
    static final EmbeddedZk zk = EmbeddedZk.server();

    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    void afterAServerRestartTheCopyCatchesUpAndListenersHearTheChange() throws Exception {
        try (ZkRecipes writerZk = Clients.connect(zk.connectString(), Duration.ofSeconds(10));
             ZkRecipes readerZk = Clients.connect(zk.connectString(), Duration.ofSeconds(10));
             ConfigStore writer = ConfigStore.open(writerZk, "restart");
             ConfigStore reader = ConfigStore.open(readerZk, "restart")) {
            writer.put("mode", "before");
            await().atMost(WAIT).until(() -> reader.get("mode").orElse("").equals("before"));
            List<ConfigChange> seen = new CopyOnWriteArrayList<>();
            reader.addListener(seen::add);

            zk.testingServer().restart();
            await().atMost(WAIT).until(() -> writerZk.curator().getZookeeperClient().isConnected());
            writer.put("mode", "after");

            await().atMost(WAIT).until(() -> reader.get("mode").orElse("").equals("after"));
            await().atMost(WAIT).until(() -> seen.stream().anyMatch(c -> c.newValue().orElse("").equals("after")));
            assertThat(seen).noneMatch(c -> c.newValue().orElse("").equals("before"));
        }
    }

    @Test
    void afterSessionExpiryTheCopyRebuildsAndReportsWhatChangedMeanwhile() throws Exception {
        try (ZkRecipes writerZk = Clients.connect(zk.connectString());
             ProxiedClient readerClient = ProxiedClient.connect(zk.connectString(), zk.port(), Duration.ofSeconds(2));
             ConfigStore writer = ConfigStore.open(writerZk, "expiry");
             ConfigStore reader = ConfigStore.open(readerClient.zk(), "expiry");
             FileMetadataStore fsWriter = FileMetadataStore.open(writerZk, "expiry");
             FileMetadataStore fsReader = FileMetadataStore.open(readerClient.zk(), "expiry")) {
            writer.put("mode", "v1");
            await().atMost(WAIT).until(() -> reader.get("mode").orElse("").equals("v1"));
            List<ConfigChange> seen = new CopyOnWriteArrayList<>();
            List<FileEvent> events = new CopyOnWriteArrayList<>();
            reader.addListener(seen::add);
            fsReader.watch("/", events::add);

            // the reader is cut off long enough for its session to expire; meanwhile things change
            readerClient.proxy().blackhole();
            writer.put("mode", "v2");
            fsWriter.create("/while-away", FileMetadata.builder().size(1).build());
            await().pollDelay(Duration.ofSeconds(3)).atMost(WAIT).until(() -> true);
            readerClient.proxy().heal();

            await().atMost(WAIT).until(() -> reader.get("mode").orElse("").equals("v2"));
            await().atMost(WAIT).until(() -> seen.stream().anyMatch(c -> c.newValue().orElse("").equals("v2")));
            await().atMost(WAIT).until(() -> fsReader.stat("/while-away").isPresent());
            await().atMost(WAIT).until(() -> events.stream().anyMatch(e -> e.path().equals("/while-away")));
            assertThat(seen).extracting(c -> c.newValue().orElse("")).doesNotContain("v1");
        }
    }
}
