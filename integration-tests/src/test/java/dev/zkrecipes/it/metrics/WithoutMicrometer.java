package dev.zkrecipes.it.metrics;

import dev.zkrecipes.config.ConfigStore;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.election.LeaderElector;
import dev.zkrecipes.lock.DistributedLock;
import dev.zkrecipes.queue.Serializers;
import dev.zkrecipes.queue.TaskQueue;
import java.time.Duration;

/** Runs every recipe once; {@link MetricsIT} starts it on a classpath without Micrometer. */
public final class WithoutMicrometer {

    private WithoutMicrometer() {
    }

    public static void main(String[] args) throws Exception {
        try (ZkRecipes zk = ZkRecipes.builder().connectString(args[0]).build()) {
            zk.start();
            if (!zk.awaitConnected(Duration.ofSeconds(10))) {
                throw new IllegalStateException("not connected");
            }
            DistributedLock.of(zk, "no-micrometer").acquire().close();
            TaskQueue<String> q = TaskQueue.builder(zk, "no-micrometer", Serializers.utf8()).build();
            q.put("x");
            q.poll(Duration.ofSeconds(5)).orElseThrow().ack();
            try (ConfigStore store = ConfigStore.open(zk, "no-micrometer")) {
                store.put("k", "v");
            }
            try (LeaderElector e = LeaderElector.builder(zk, "no-micrometer").participantId("p").build()) {
                e.start();
                e.awaitLeadership(Duration.ofSeconds(10)).orElseThrow();
            }
            System.out.println("every recipe ran");
        }
    }
}
