package dev.zkrecipes.bench;

import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.queue.ConsumeOptions;
import dev.zkrecipes.queue.Serializers;
import dev.zkrecipes.queue.Subscription;
import dev.zkrecipes.queue.TaskQueue;
import dev.zkrecipes.testing.Clients;
import dev.zkrecipes.testing.ZkServers;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.recipes.queue.DistributedQueue;
import org.apache.curator.framework.recipes.queue.QueueBuilder;
import org.apache.curator.framework.recipes.queue.QueueConsumer;
import org.apache.curator.framework.recipes.queue.QueueSerializer;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.test.TestingServer;

/**
 * Queue figures on one embedded server: put throughput, end-to-end (drain) throughput with 1 and 4
 * consumers next to Curator's DistributedQueue in lock-safe mode (the same at-least-once guarantee),
 * and the time to put and drain a large backlog.
 */
public final class QueueScenario implements Scenario {

    private static final QueueSerializer<String> STRINGS = new QueueSerializer<>() {
        @Override
        public byte[] serialize(String item) {
            return item.getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public String deserialize(byte[] bytes) {
            return new String(bytes, StandardCharsets.UTF_8);
        }
    };

    @Override
    public void run(String[] args) throws Exception {
        List<String> a = Arrays.asList(args);
        boolean quick = a.contains("--quick");
        int n = quick ? 1000 : 5000;
        int backlog = a.contains("--million") ? 1_000_000 : quick ? 5_000 : 50_000;
        try (Ensemble server = Ensemble.open(args)) {
            List<ZkRecipes> clients = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                clients.add(Clients.connect(server.getConnectString()));
            }
            try {
                Report.title("queue, put throughput (one producer, " + n + " tasks)");
                oursPut(clients.get(0), "put-warmup", n / 2);
                curatorPut(clients.get(0), "/bench/curator-put-warmup", n / 2, false);
                // the two durable puts in alternating rounds, so that drift on the machine hits both alike
                double[] durable = durablePutsInterleaved(clients.get(0), n);
                double oursPut = durable[0];
                double curatorPut = durable[1];
                double curatorBackground = curatorPut(clients.get(0), "/bench/curator-put-bg", n, true);
                double batched = oursPutAll(clients.get(0), "put-batched", n);
                double async = oursPutAsync(clients.get(0), "put-async", n);
                Report.throughputRow("zk-recipes put() (returns when durable)", oursPut, curatorPut, "Curator sync put");
                Report.throughputRow("zk-recipes putAsync() (pipelined, all confirmed)", async, curatorBackground, "Curator background put");
                Report.throughputRow("zk-recipes putAll(100 per batch)", batched, curatorPut, "Curator sync put");
                Report.throughputRow("Curator DistributedQueue put(), putInBackground(false)", curatorPut, 0, "");
                Report.throughputRow("Curator DistributedQueue put(), default background", curatorBackground, 0, "");
                Report.note("Curator's default put returns before the item is durable; its background figure is");
                Report.note("how fast it can send, not confirm. putAsync above counts confirmed puts.");

                Report.title("queue, end to end: drain " + n + " pending tasks, consumers on separate clients");
                for (int consumers : new int[] {1, 4}) {
                    double ours = oursDrain(clients, "e2e-" + consumers, n, consumers, 1);
                    double oursParallel = oursDrain(clients, "e2e-par-" + consumers, n, consumers, 4);
                    double curator = curatorDrain(clients, "/bench/curator-e2e-" + consumers, n, consumers);
                    Report.throughputRow("zk-recipes, " + consumers + " consumer(s) x 1 thread", ours, curator, "Curator");
                    Report.throughputRow("zk-recipes, " + consumers + " consumer(s) x 4 threads", oursParallel, curator, "Curator");
                    Report.throughputRow("Curator DistributedQueue lock-safe, " + consumers + " consumer(s)", curator, 0, "");
                }

                Report.title("queue, what metrics cost: drain " + n + " tasks, 1 consumer x 1 thread, with and without a"
                        + " MeterRegistry, interleaved");
                ZkRecipes metered = Metered.connect(server.getConnectString());
                try {
                    List<ZkRecipes> meteredClients = List.of(clients.get(0), metered);
                    double plain = 0;
                    double withMetrics = 0;
                    for (int round = 0; round < 2; round++) {
                        plain += oursDrain(clients, "metrics-plain-" + round, n, 1, 1);
                        withMetrics += oursDrain(meteredClients, "metrics-metered-" + round, n, 1, 1);
                    }
                    Report.throughputRow("zk-recipes drain with a MeterRegistry", withMetrics / 2, plain / 2, "without");
                } finally {
                    metered.close();
                }

                Report.title("queue, a backlog of " + backlog + " small tasks: put (putAll of 1000), count, drain (4 consumers x 4 threads)");
                long t0 = System.nanoTime();
                TaskQueue<String> big = TaskQueue.builder(clients.get(0), "backlog", Serializers.utf8()).build();
                List<String> batch = new ArrayList<>();
                for (int i = 0; i < backlog; i++) {
                    batch.add("t" + i);
                    if (batch.size() == 1000) {
                        big.putAll(batch);
                        batch.clear();
                    }
                }
                double putSeconds = (System.nanoTime() - t0) / 1e9;
                long t1 = System.nanoTime();
                long counted = big.size();
                double countSeconds = (System.nanoTime() - t1) / 1e9;
                Report.note(String.format(Locale.ROOT, "put %d in %.1f s (%.0f/s); size() = %d in %.2f s; largest bucket %d tasks",
                        backlog, putSeconds, backlog / putSeconds, counted, countSeconds, big.largestBucket()));
                double drain = drain(clients, "backlog", backlog, 4, 4);
                Report.note(String.format(Locale.ROOT, "drained in %.1f s (%.0f/s)", backlog / drain, drain));
            } finally {
                clients.forEach(ZkRecipes::close);
            }
        }
    }

    /** put() and Curator's synchronous put, n each, in ten alternating rounds; tasks per second of each. */
    private static double[] durablePutsInterleaved(ZkRecipes zk, int n) throws Exception {
        TaskQueue<String> ours = TaskQueue.builder(zk, "bench/put-ours", Serializers.utf8()).build();
        DistributedQueue<String> curator = QueueBuilder.builder(zk.curator(), null, STRINGS, "/bench/curator-put")
                .lockPath("/bench/curator-put-lock").putInBackground(false).buildQueue();
        curator.start();
        try {
            long oursNanos = 0;
            long curatorNanos = 0;
            int perRound = n / 10;
            for (int round = 0; round < 10; round++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < perRound; i++) {
                    ours.put("task-" + i);
                }
                long t1 = System.nanoTime();
                for (int i = 0; i < perRound; i++) {
                    curator.put("task-" + i);
                }
                long t2 = System.nanoTime();
                oursNanos += t1 - t0;
                curatorNanos += t2 - t1;
            }
            return new double[] {perRound * 10 / (oursNanos / 1e9), perRound * 10 / (curatorNanos / 1e9)};
        } finally {
            curator.close();
        }
    }

    private static double oursPut(ZkRecipes zk, String name, int n) {
        TaskQueue<String> q = TaskQueue.builder(zk, "bench/" + name, Serializers.utf8()).build();
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            q.put("task-" + i);
        }
        return n / ((System.nanoTime() - t0) / 1e9);
    }

    private static double oursPutAsync(ZkRecipes zk, String name, int n) throws Exception {
        TaskQueue<String> q = TaskQueue.builder(zk, "bench/" + name, Serializers.utf8()).build();
        long t0 = System.nanoTime();
        List<java.util.concurrent.CompletableFuture<String>> inFlight = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            inFlight.add(q.putAsync("task-" + i));
        }
        java.util.concurrent.CompletableFuture.allOf(inFlight.toArray(java.util.concurrent.CompletableFuture[]::new))
                .get(5, TimeUnit.MINUTES);
        return n / ((System.nanoTime() - t0) / 1e9);
    }

    private static double oursPutAll(ZkRecipes zk, String name, int n) {
        TaskQueue<String> q = TaskQueue.builder(zk, "bench/" + name, Serializers.utf8()).build();
        long t0 = System.nanoTime();
        List<String> batch = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            batch.add("task-" + i);
            if (batch.size() == 100) {
                q.putAll(batch);
                batch.clear();
            }
        }
        if (!batch.isEmpty()) {
            q.putAll(batch);
        }
        return n / ((System.nanoTime() - t0) / 1e9);
    }

    /** Curator's put: with {@code background} its default (returns before the item is durable). */
    private static double curatorPut(ZkRecipes zk, String path, int n, boolean background) throws Exception {
        DistributedQueue<String> q = QueueBuilder.builder(zk.curator(), null, STRINGS, path).lockPath(path + "-lock")
                .putInBackground(background).buildQueue();
        q.start();
        try {
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                q.put("task-" + i);
            }
            return n / ((System.nanoTime() - t0) / 1e9);
        } finally {
            q.close();
        }
    }

    private static double oursDrain(List<ZkRecipes> clients, String name, int n, int consumers, int threads) throws Exception {
        TaskQueue<String> producer = TaskQueue.builder(clients.get(0), "bench/" + name, Serializers.utf8()).build();
        List<String> batch = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            batch.add("task-" + i);
            if (batch.size() == 500) {
                producer.putAll(batch);
                batch.clear();
            }
        }
        return drain(clients, "bench/" + name, n, consumers, threads);
    }

    /** Consumers on clients 1..consumers, {@code threads} handlers each; returns tasks per second. */
    private static double drain(List<ZkRecipes> clients, String name, int n, int consumers, int threads) throws Exception {
        CountDownLatch done = new CountDownLatch(n);
        List<Subscription> subs = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int c = 1; c <= consumers; c++) {
            TaskQueue<String> q = TaskQueue.builder(clients.get(c), name, Serializers.utf8()).build();
            subs.add(q.consume(task -> done.countDown(), ConsumeOptions.concurrency(threads)));
        }
        boolean finished = done.await(30, TimeUnit.MINUTES);
        double rate = (n - done.getCount()) / ((System.nanoTime() - t0) / 1e9);
        subs.forEach(Subscription::close);
        if (!finished) {
            throw new IllegalStateException("drain did not finish");
        }
        return rate;
    }

    private static double curatorDrain(List<ZkRecipes> clients, String path, int n, int consumers) throws Exception {
        DistributedQueue<String> producer = QueueBuilder.builder(clients.get(0).curator(), null, STRINGS, path)
                .lockPath(path + "-lock").buildQueue();
        producer.start();
        for (int i = 0; i < n; i++) {
            producer.put("task-" + i);
        }
        producer.close();
        CountDownLatch done = new CountDownLatch(n);
        List<DistributedQueue<String>> queues = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int c = 1; c <= consumers; c++) {
            DistributedQueue<String> q = QueueBuilder.builder(clients.get(c).curator(), new QueueConsumer<String>() {
                @Override
                public void consumeMessage(String message) {
                    done.countDown();
                }

                @Override
                public void stateChanged(org.apache.curator.framework.CuratorFramework client, ConnectionState newState) {
                }
            }, STRINGS, path).lockPath(path + "-lock").buildQueue();
            q.start();
            queues.add(q);
        }
        boolean finished = done.await(10, TimeUnit.MINUTES);
        double rate = (n - done.getCount()) / ((System.nanoTime() - t0) / 1e9);
        for (DistributedQueue<String> q : queues) {
            q.close();
        }
        if (!finished) {
            throw new IllegalStateException("Curator drain did not finish");
        }
        return rate;
    }
}
