package dev.zkrecipes.cli;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.zkrecipes.config.ConfigStore;
import dev.zkrecipes.core.LeadershipLostException;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.election.LeaderElector;
import dev.zkrecipes.election.Leadership;
import dev.zkrecipes.election.LeadershipListener;
import dev.zkrecipes.election.RevocationReason;
import dev.zkrecipes.lock.DistributedLock;
import dev.zkrecipes.lock.LockHandle;
import dev.zkrecipes.queue.Serializers;
import dev.zkrecipes.queue.Task;
import dev.zkrecipes.queue.TaskQueue;
import dev.zkrecipes.testing.Clients;
import dev.zkrecipes.testing.SessionKiller;
import dev.zkrecipes.testing.ZkServers;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;

@Command(name = "demo", description = {"Walk through the recipes live on an embedded 3-node ensemble.",
        "Election with a server crash and a hand-off, a contended lock, a queue surviving a consumer crash,",
        "a config change reaching every node. Finishes by itself in well under a minute."})
final class DemoCommand implements Callable<Integer> {

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    private final long start = System.nanoTime();
    private PrintWriter out;

    @Override
    public Integer call() throws Exception {
        out = spec.commandLine().getOut();
        System.setProperty("org.slf4j.simpleLogger.log.org.apache.zookeeper", "off");
        say("starting an embedded 3-node ZooKeeper ensemble ...");
        try (TestingCluster cluster = ZkServers.startCluster(3)) {
            say("ensemble up at " + cluster.getConnectString());
            List<ZkRecipes> nodes = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    nodes.add(Clients.connect(cluster.getConnectString(), Duration.ofSeconds(6)));
                }
                election(cluster, nodes);
                lock(nodes);
                queue(cluster, nodes);
                config(nodes);
            } finally {
                nodes.forEach(ZkRecipes::close);
            }
        }
        say("done.");
        return Zkr.OK;
    }

    private void election(TestingCluster cluster, List<ZkRecipes> nodes) throws Exception {
        section("1. leader election with fencing tokens");
        List<LeaderElector> electors = new ArrayList<>();
        AtomicLong electedAt = new AtomicLong();
        for (int i = 0; i < 3; i++) {
            String id = "node-" + (i + 1);
            LeaderElector e = LeaderElector.builder(nodes.get(i), "demo").participantId(id).listener(new LeadershipListener() {
                @Override
                public void elected(Leadership term) {
                    electedAt.set(System.nanoTime());
                    say("  " + id + " leads, token " + term.token());
                }

                @Override
                public void revoked(Leadership term, RevocationReason reason) {
                    say("  " + id + " stops leading (" + reason + "), token " + term.token());
                }
            }).build();
            e.start();
            electors.add(e);
            awaitTrue(() -> e.participants().size() == electors.size());
        }
        Leadership term = electors.get(0).awaitLeadership(Duration.ofSeconds(10)).orElseThrow();

        InstanceSpec zkLeader = ZkServers.ensembleLeader(cluster);
        say("killing the ZooKeeper server that leads the ensemble (port " + zkLeader.getPort() + ") ...");
        long killedAt = System.nanoTime();
        cluster.killServer(zkLeader);
        awaitTrue(() -> {
            try {
                return ZkServers.ensembleLeader(cluster) != null;
            } catch (IllegalStateException electing) {
                return false;
            }
        });
        awaitTrue(() -> nodes.stream().allMatch(n -> n.curator().getZookeeperClient().isConnected()));
        Leadership after = electors.get(0).awaitLeadership(Duration.ofSeconds(20)).orElseThrow();
        term.commit();
        say(String.format(Locale.ROOT, "  the ensemble elected a new leader of its own in %.1f s; node-1 still leads with"
                + " the same token %s and can still write: no flap", (System.nanoTime() - killedAt) / 1e9, after.token()));

        say("node-1 shuts down ...");
        electedAt.set(0);
        long t0 = System.nanoTime();
        electors.get(0).close();
        awaitTrue(() -> electedAt.get() != 0);
        say(String.format(Locale.ROOT, "  hand-off to node-2 took %.1f ms", (electedAt.get() - t0) / 1e6));
        try {
            term.commit();
        } catch (LeadershipLostException refused) {
            say("  a late write under node-1's old token " + term.token() + " is refused");
        }
        cluster.restartServer(zkLeader);
        electors.forEach(LeaderElector::close);
    }

    private void lock(List<ZkRecipes> nodes) throws Exception {
        section("2. a lock that really excludes");
        List<Thread> workers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            DistributedLock lock = DistributedLock.of(nodes.get(i), "demo/report");
            String who = "worker-" + (i + 1);
            workers.add(new Thread(() -> {
                for (int round = 0; round < 2; round++) {
                    try (LockHandle h = lock.acquire()) {
                        say("  " + who + " holds the lock, token " + h.token());
                        TimeUnit.MILLISECONDS.sleep(100);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }));
        }
        workers.forEach(Thread::start);
        for (Thread w : workers) {
            w.join();
        }
        say("  one holder at a time; every holder's token larger than the one before");
    }

    private void queue(TestingCluster cluster, List<ZkRecipes> nodes) throws Exception {
        section("3. a work queue that loses nothing");
        TaskQueue<String> producer = TaskQueue.builder(nodes.get(0), "demo/jobs", Serializers.utf8()).build();
        producer.putAll(List.of("resize img-1", "resize img-2", "resize img-3"));
        say("  producer put 3 tasks");
        ZkRecipes crashing = Clients.connect(cluster.getConnectString(), Duration.ofSeconds(4));
        TaskQueue<String> doomed = TaskQueue.builder(crashing, "demo/jobs", Serializers.utf8()).build();
        Task<String> lost = doomed.poll(Duration.ofSeconds(5)).orElseThrow();
        say("  consumer A took '" + lost.payload() + "' (attempt " + lost.attempt() + ") and crashes before finishing");
        InstanceSpec server = cluster.findConnectionInstance(crashing.curator().getZookeeperClient().getZooKeeper());
        SessionKiller.expire(crashing.curator(), "127.0.0.1:" + server.getPort());
        crashing.close();
        TaskQueue<String> worker = TaskQueue.builder(nodes.get(1), "demo/jobs", Serializers.utf8()).build();
        int done = 0;
        while (done < 3) {
            Optional<Task<String>> t = worker.poll(Duration.ofSeconds(10));
            if (t.isEmpty()) {
                break;
            }
            say("  consumer B handles '" + t.get().payload() + "' (attempt " + t.get().attempt() + ")"
                    + (t.get().attempt() > 1 ? "  <- redelivered after A's crash" : ""));
            t.get().ack();
            done++;
        }
        say("  pending now: " + producer.size());
    }

    private void config(List<ZkRecipes> nodes) throws Exception {
        section("4. configuration every node sees the same");
        List<ConfigStore> stores = new ArrayList<>();
        CountDownLatch seen = new CountDownLatch(4); // two keys reaching each of two other nodes
        try {
            for (int i = 0; i < 3; i++) {
                ConfigStore s = ConfigStore.open(nodes.get(i), "demo");
                String who = "node-" + (i + 1);
                stores.add(s);
                if (i > 0) {
                    s.addListener(change -> {
                        say("  " + who + " sees " + change.key() + " = " + change.newValue().orElse("(deleted)"));
                        seen.countDown();
                    });
                }
            }
            say("node-1 sets db.host and db.port in one atomic write ...");
            stores.get(0).putAll(java.util.Map.of("db.host", "10.0.0.7", "db.port", "5433"));
            seen.await(10, TimeUnit.SECONDS);
            say("  node-3 reads db.host=" + stores.get(2).get("db.host").orElse("?") + " db.port="
                    + stores.get(2).get("db.port").orElse("?"));
        } finally {
            stores.forEach(ConfigStore::close);
        }
    }

    private void section(String title) {
        out.println();
        say(title);
    }

    private synchronized void say(String line) {
        out.printf(Locale.ROOT, "[%5.1fs] %s%n", (System.nanoTime() - start) / 1e9, line);
        out.flush();
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the demo waited 30 s for a step that did not happen");
            }
            TimeUnit.MILLISECONDS.sleep(5);
        }
    }
}
