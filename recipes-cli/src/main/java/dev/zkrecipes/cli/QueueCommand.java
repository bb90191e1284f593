package dev.zkrecipes.cli;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.zkrecipes.config.Durations;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.queue.ClaimInfo;
import dev.zkrecipes.queue.DeadLetter;
import dev.zkrecipes.queue.QueuedTask;
import dev.zkrecipes.queue.Serializers;
import dev.zkrecipes.queue.Task;
import dev.zkrecipes.queue.TaskQueue;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "queue", description = "Work queues: put, take, size, dead, claims, peek, purge, requeue, delete.",
        subcommands = {QueueCommand.Put.class, QueueCommand.Take.class, QueueCommand.Size.class, QueueCommand.Dead.class,
                QueueCommand.Claims.class, QueueCommand.Peek.class, QueueCommand.Purge.class, QueueCommand.Requeue.class,
                QueueCommand.Delete.class})
final class QueueCommand extends GroupCommand {

    static TaskQueue<String> queue(ZkRecipes zk, String name) {
        return TaskQueue.builder(zk, name, Serializers.utf8()).build();
    }

    @Command(name = "put", description = "Put one task per PAYLOAD in one atomic batch (of 500 at most each); print their ids.")
    static final class Put extends NamedCommand {
        @Parameters(index = "1..*", arity = "1..*", description = "payloads (UTF-8); '-' reads one payload per line from stdin")
        List<String> payloads;

        @Override
        int run(ZkRecipes zk) throws java.io.IOException {
            List<String> all = new java.util.ArrayList<>();
            for (String p : payloads) {
                if (p.equals("-")) {
                    new java.io.BufferedReader(new java.io.InputStreamReader(System.in, UTF_8)).lines()
                            .filter(line -> !line.isEmpty()).forEach(all::add);
                } else {
                    all.add(p);
                }
            }
            if (all.isEmpty()) {
                err().println("zkr: nothing to put (stdin was empty)");
                return Zkr.USAGE;
            }
            TaskQueue<String> q = queue(zk, name);
            // one atomic batch when it fits, else batches of 500 in order
            for (int i = 0; i < all.size(); i += 500) {
                q.putAll(all.subList(i, Math.min(all.size(), i + 500))).forEach(out()::println);
            }
            return Zkr.OK;
        }
    }

    @Command(name = "take", description = "Take one task, print it and acknowledge it (exit 5 if none came in time).")
    static final class Take extends NamedCommand {
        @Option(names = "--timeout", description = "how long to wait, e.g. 5s (default: ${DEFAULT-VALUE})", defaultValue = "5s")
        String timeout;

        @Override
        int run(ZkRecipes zk) throws Exception {
            Optional<Task<String>> task = queue(zk, name).poll(Durations.parse(timeout));
            if (task.isEmpty()) {
                err().println("zkr: no task in queue '" + name + "' within " + timeout);
                return Zkr.NOT_FOUND;
            }
            out().println(task.get().payload());
            task.get().ack();
            return Zkr.OK;
        }
    }

    @Command(name = "size", description = "Print how many tasks are not yet acknowledged.")
    static final class Size extends NamedCommand {
        @Option(names = "--json", description = "{queue, size}")
        boolean json;

        @Override
        int run(ZkRecipes zk) {
            long size = queue(zk, name).size();
            if (json) {
                Json.print(out(), java.util.Map.of("queue", name, "size", size));
            } else {
                out().println(size);
            }
            return Zkr.OK;
        }
    }

    @Command(name = "dead", description = "List dead letters (tasks that used all their attempts).")
    static final class Dead extends NamedCommand {
        @Option(names = "--limit", defaultValue = "100", description = "at most this many (default: ${DEFAULT-VALUE})")
        int limit;

        @Option(names = "--json", description = "[{id, attempts, payload}] (payload as UTF-8)")
        boolean json;

        @Override
        int run(ZkRecipes zk) {
            if (json) {
                Json.print(out(), queue(zk, name).deadLetters(limit).stream().map(d -> java.util.Map.of("id", d.id(),
                        "attempts", d.attempts(), "payload", new String(d.payload(), UTF_8))).toList());
                return Zkr.OK;
            }
            for (DeadLetter d : queue(zk, name).deadLetters(limit)) {
                out().println(d.id() + "  attempts " + d.attempts() + "  " + new String(d.payload(), UTF_8));
            }
            return Zkr.OK;
        }
    }

    @Command(name = "claims", description = "List the tasks being handled now: task, consumer, since when.")
    static final class Claims extends NamedCommand {
        @Option(names = "--json", description = "[{task, consumer, since}] (null where unknown)")
        boolean json;

        @Override
        int run(ZkRecipes zk) {
            if (json) {
                List<java.util.Map<String, Object>> rows = new java.util.ArrayList<>();
                for (ClaimInfo c : queue(zk, name).claims()) {
                    java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
                    m.put("task", c.taskId());
                    m.put("consumer", c.consumer().orElse(null));
                    m.put("since", c.since().map(Object::toString).orElse(null));
                    rows.add(m);
                }
                Json.print(out(), rows);
                return Zkr.OK;
            }
            for (ClaimInfo c : queue(zk, name).claims()) {
                out().println(c.taskId() + "  " + c.consumer().orElse("?") + "  since "
                        + c.since().map(Object::toString).orElse("?"));
            }
            return Zkr.OK;
        }
    }

    @Command(name = "peek", description = "List waiting tasks in delivery order without taking them.")
    static final class Peek extends NamedCommand {
        @Option(names = "--limit", defaultValue = "20", description = "at most this many (default: ${DEFAULT-VALUE})")
        int limit;

        @Override
        int run(ZkRecipes zk) {
            for (QueuedTask<String> t : queue(zk, name).peek(limit)) {
                out().println(t.id() + "  deliveries " + t.deliveries() + (t.claimed() ? "  claimed" : "") + "  " + t.payload());
            }
            return Zkr.OK;
        }
    }

    @Command(name = "purge", description = "Delete every waiting task nobody holds; print how many.")
    static final class Purge extends NamedCommand {
        @Override
        int run(ZkRecipes zk) {
            out().println(queue(zk, name).purge());
            return Zkr.OK;
        }
    }

    @Command(name = "requeue", description = "Put dead letter ID back into the queue; print the new task id (exit 5 if none).")
    static final class Requeue extends NamedCommand {
        @Parameters(index = "1", description = "dead letter id, as 'queue dead' prints it")
        String id;

        @Override
        int run(ZkRecipes zk) {
            Optional<String> requeued = queue(zk, name).requeueDeadLetter(id);
            if (requeued.isEmpty()) {
                err().println("no dead letter " + id + " in queue '" + name + "'");
                return Zkr.NOT_FOUND;
            }
            out().println(requeued.get());
            return Zkr.OK;
        }
    }

    @Command(name = "delete", description = "Delete the queue with every task, claim and dead letter (exit 5 if none).")
    static final class Delete extends NamedCommand {
        @Override
        int run(ZkRecipes zk) {
            return TaskQueue.deleteQueue(zk, name) ? Zkr.OK : Zkr.NOT_FOUND;
        }
    }
}
