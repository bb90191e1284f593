package dev.zkrecipes.cli;

import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.lock.DistributedLock;
import dev.zkrecipes.lock.LockHolder;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "locks", description = {"Print the holder and the waiters of lock NAME, with ids and tokens;",
        "with --watch, again with the time at every change until Ctrl-C (or --for)."})
final class LocksCommand extends ConnectedCommand {

    @Parameters(index = "0", description = "lock name")
    String name;

    @Override
    String recipeName() {
        return name;
    }

    @picocli.CommandLine.Option(names = "--json", description = "[{id, token, holding}], holder first")
    boolean json;

    @picocli.CommandLine.Option(names = "--watch", description = "print the line again at every change, with its time")
    boolean watch;

    @picocli.CommandLine.Option(names = "--for", description = "with --watch: stop after this long, e.g. 30s")
    String duration;

    @Override
    Integer refuseBeforeConnecting() {
        if (duration != null) {
            dev.zkrecipes.config.Durations.parse(duration);
        }
        return null;
    }

    @Override
    int run(ZkRecipes zk) throws Exception {
        if (watch) {
            return watch(zk);
        }
        List<LockHolder> line = DistributedLock.of(zk, name).holders();
        if (json) {
            Json.print(out(), line.stream().map(h -> java.util.Map.of("id", h.id(), "token", h.token().value(),
                    "holding", h.holding())).toList());
            return Zkr.OK;
        }
        if (line.isEmpty()) {
            out().println("lock '" + name + "' is free");
        }
        for (LockHolder h : line) {
            out().println((h.holding() ? "holder:  " : "waiting: ") + h.id() + "  token " + h.token());
        }
        return Zkr.OK;
    }

    /** Prints the line now and at every change of the lock node's children (one watch at a time). */
    private int watch(ZkRecipes zk) throws Exception {
        DistributedLock lock = DistributedLock.of(zk, name);
        String path = "/zkr/locks/" + name;
        long end = duration == null ? Long.MAX_VALUE : System.nanoTime() + dev.zkrecipes.config.Durations.parse(duration).toNanos();
        List<LockHolder> last = null;
        while (System.nanoTime() - end < 0) {
            java.util.concurrent.CountDownLatch changed = new java.util.concurrent.CountDownLatch(1);
            // set the watch first, then read: no change can fall between the two
            if (zk.curator().checkExists().usingWatcher((org.apache.zookeeper.Watcher) e -> changed.countDown()).forPath(path) != null) {
                zk.curator().getChildren().usingWatcher((org.apache.zookeeper.Watcher) e -> changed.countDown()).forPath(path);
            }
            List<LockHolder> line = lock.holders();
            if (!line.equals(last)) {
                String now = java.time.Instant.now().toString();
                if (line.isEmpty()) {
                    out().println(now + "  lock '" + name + "' is free");
                }
                for (LockHolder h : line) {
                    out().println(now + "  " + (h.holding() ? "holder:  " : "waiting: ") + h.id() + "  token " + h.token());
                }
                out().flush();
                last = line;
            }
            long left = Math.min(end - System.nanoTime(), java.util.concurrent.TimeUnit.SECONDS.toNanos(60));
            changed.await(Math.max(1, left), java.util.concurrent.TimeUnit.NANOSECONDS);
        }
        return Zkr.OK;
    }
}
