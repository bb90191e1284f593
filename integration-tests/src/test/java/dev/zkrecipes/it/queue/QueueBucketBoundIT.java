package dev.zkrecipes.it.queue;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.queue.Serializers;
import dev.zkrecipes.queue.Task;
import dev.zkrecipes.queue.TaskQueue;
import dev.zkrecipes.testing.EmbeddedZk;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * However many producers write at once, pipelined or not, no bucket holds more than
 * {@code bucketSize} tasks: that bound is what keeps every read far below {@code jute.maxbuffer}.
 */
class QueueBucketBoundIT {

    @RegisterExtension
    static final EmbeddedZk zk = EmbeddedZk.withClients(4);

    private static final int BUCKET = 100;

    private static TaskQueue<String> queue(ZkRecipes client) {
        return TaskQueue.builder(client, "bound", Serializers.utf8()).bucketSize(BUCKET).build();
    }

    @Test
    void manyProducersSyncAndPipelinedNeverOverfillABucket() throws Exception {
        List<CompletableFuture<List<String>>> producers = new ArrayList<>();
        for (int c = 0; c < 3; c++) {
            TaskQueue<String> q = queue(zk.client(c));
            int producer = c;
            producers.add(CompletableFuture.supplyAsync(() -> {
                List<CompletableFuture<String>> puts = new ArrayList<>();
                for (int i = 0; i < 600; i++) {
                    puts.add(q.putAsync("async-" + producer + "-" + i));
                }
                return puts.stream().map(CompletableFuture::join).toList();
            }));
        }
        TaskQueue<String> sync = queue(zk.client(3));
        producers.add(CompletableFuture.supplyAsync(() -> {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                ids.add(sync.put("sync-" + i));
            }
            return ids;
        }));
        Set<String> ids = new HashSet<>();
        for (CompletableFuture<List<String>> p : producers) {
            ids.addAll(p.get(90, TimeUnit.SECONDS));
        }
        int total = 3 * 600 + 200;

        assertThat(ids).hasSize(total);
        assertThat(sync.size()).isEqualTo(total);
        assertThat(sync.largestBucket()).isLessThanOrEqualTo(BUCKET);

        Set<String> drained = new HashSet<>();
        for (int i = 0; i < total; i++) {
            Optional<Task<String>> t = sync.poll(Duration.ofSeconds(5));
            assertThat(t).as("task %d of %d", i, total).isPresent();
            drained.add(t.get().payload());
            t.get().ack();
        }
        assertThat(drained).hasSize(total);
        assertThat(sync.size()).isZero();
    }
}
