package dev.zkrecipes.it.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.zkrecipes.config.ConfigStore;
import dev.zkrecipes.config.FileMetadataStore;
import dev.zkrecipes.core.ConnectionLossException;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.queue.Serializers;
import dev.zkrecipes.queue.Task;
import dev.zkrecipes.queue.TaskQueue;
import dev.zkrecipes.testing.Clients;
import dev.zkrecipes.testing.EmbeddedZk;
import dev.zkrecipes.testing.ProxiedClient;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Calls with a timeout keep it with the ensemble unreachable (the client's connection blackholed),
 * returning or throwing a typed {@link ConnectionLossException}: a queue's poll(timeout), within
 * the timeout plus half a second, whether it has tasks in view to claim or must read the queue
 * first (12 s claiming, untyped, and 151 s reading, through the whole retry policy, before); a
 * config store's open(timeout) and a file store's open, within their timeouts (through the whole
 * retry policy before).
 */
class CallBoundsIT {

    @RegisterExtension
    static final EmbeddedZk zk = EmbeddedZk.server();

    @Test
    void pollOnAnUnreachableEnsembleReturnsWithinItsTimeout() throws Exception {
        try (ZkRecipes operator = Clients.connect(zk.connectString(), Duration.ofSeconds(6));
             ProxiedClient consumer = zk.proxiedClient(Duration.ofSeconds(6))) {
            TaskQueue<String> producer = TaskQueue.builder(operator, "bound", Serializers.utf8()).build();
            TaskQueue<String> q = TaskQueue.builder(consumer.zk(), "bound", Serializers.utf8()).build();
            producer.put("a");
            producer.put("b");
            Task<String> first = q.poll(Duration.ofSeconds(5)).orElseThrow();
            first.ack();
            consumer.proxy().blackhole();
            // the first poll claims the task in view, the next ones read the queue (and arm its watch)
            for (int i = 0; i < 3; i++) {
                long t0 = System.nanoTime();
                String outcome;
                try {
                    Optional<Task<String>> t = q.poll(Duration.ofMillis(300));
                    outcome = t.map(x -> "task " + x.id()).orElse("empty");
                } catch (ConnectionLossException e) {
                    outcome = "connection loss";
                }
                long ms = (System.nanoTime() - t0) / 1_000_000;
                System.out.println("CallBoundsIT: poll(300 ms) on a blackholed connection: " + outcome + " after " + ms + " ms");
                assertThat(ms).as("poll(300 ms) with the ensemble unreachable").isLessThan(1300);
            }
            consumer.proxy().heal();
            assertThat(q.poll(Duration.ofSeconds(10))).as("the task left, once the ensemble is back").isPresent();
        }
    }

    @Test
    void configStoreOpenOnAnUnreachableEnsembleFailsWithinItsTimeout() throws Exception {
        try (ZkRecipes writer = Clients.connect(zk.connectString(), Duration.ofSeconds(6));
             ProxiedClient reader = zk.proxiedClient(Duration.ofSeconds(6))) {
            try (ConfigStore store = ConfigStore.open(writer, "bound")) {
                store.put("k", "v");
            }
            reader.proxy().blackhole();
            for (int i = 0; i < 2; i++) {
                long t0 = System.nanoTime();
                AtomicReference<ConfigStore> opened = new AtomicReference<>();
                Throwable failed = catchThrowable(() -> opened.set(ConfigStore.open(reader.zk(), "bound", Duration.ofMillis(500))));
                long ms = (System.nanoTime() - t0) / 1_000_000;
                System.out.println("CallBoundsIT: ConfigStore.open(500 ms) on a blackholed connection: " + failed + " after "
                        + ms + " ms");
                assertThat(opened.get()).as("no store opened without the ensemble").isNull();
                assertThat(failed).isInstanceOf(ConnectionLossException.class);
                assertThat(ms).as("open(500 ms) with the ensemble unreachable").isLessThan(1500);
            }
            reader.proxy().heal();
            try (ConfigStore store = ConfigStore.open(reader.zk(), "bound", Duration.ofSeconds(10))) {
                assertThat(store.get("k")).as("opens once the ensemble is back").contains("v");
            }
        }
    }

    @Test
    void fileStoreOpenOnAnUnreachableEnsembleFailsWithinItsFifteenSeconds() throws Exception {
        try (ProxiedClient client = zk.proxiedClient(Duration.ofSeconds(30))) {
            client.proxy().blackhole();
            long t0 = System.nanoTime();
            AtomicReference<FileMetadataStore> opened = new AtomicReference<>();
            Throwable failed = catchThrowable(() -> opened.set(FileMetadataStore.open(client.zk(), "bound-fs")));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            System.out.println("CallBoundsIT: FileMetadataStore.open on a blackholed connection: " + failed + " after "
                    + ms + " ms");
            assertThat(opened.get()).as("no store opened without the ensemble").isNull();
            assertThat(failed).isInstanceOf(ConnectionLossException.class);
            assertThat(ms).as("open (15 s) with the ensemble unreachable").isLessThan(16_500);
            client.proxy().heal();
            try (FileMetadataStore store = FileMetadataStore.open(client.zk(), "bound-fs")) {
                assertThat(store.list("/")).as("opens once the ensemble is back").isEmpty();
            }
        }
    }
}
