package dev.zkrecipes.cli;

import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.election.LeaderObserver;
import dev.zkrecipes.election.Participant;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "leader", description = "Print who leads election NAME (id, token, data) and who waits. Exit 1 if nobody.")
final class LeaderCommand extends ConnectedCommand {

    @Parameters(index = "0", description = "election name")
    String name;

    @Override
    String recipeName() {
        return name;
    }

    @Option(names = "--json", description = "{election, leader: {id, token, data} or null, waiting: [...]}")
    boolean json;

    @Option(names = "--watch", description = "then print every change of leader, with its time, until Ctrl-C (or --for)")
    boolean watch;

    @Option(names = "--for", description = "with --watch: stop after this long, e.g. 30s")
    String duration;

    @Override
    Integer refuseBeforeConnecting() {
        if (duration != null) {
            dev.zkrecipes.config.Durations.parse(duration);
        }
        return null;
    }

    @Override
    int run(ZkRecipes zk) throws InterruptedException {
        try (LeaderObserver observer = LeaderObserver.of(zk, name)) {
            List<Participant> line = observer.participants();
            if (json) {
                java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
                m.put("election", name);
                m.put("leader", line.isEmpty() ? null : Json.participant(line.get(0)));
                m.put("waiting", line.stream().skip(1).map(Json::participant).toList());
                Json.print(out(), m);
                return line.isEmpty() ? Zkr.FAILED : Zkr.OK;
            }
            if (watch) {
                return watch(observer, line);
            }
            if (line.isEmpty()) {
                out().println("election '" + name + "' has no participant");
                return Zkr.FAILED;
            }
            Participant leader = line.get(0);
            out().println("leader: " + leader.id() + "  token " + leader.token() + "  data " + leader.dataAsString());
            for (Participant p : line.subList(1, line.size())) {
                out().println("waiting: " + p.id() + "  token " + p.token());
            }
            return Zkr.OK;
        }
    }

    private int watch(LeaderObserver observer, List<Participant> line) throws InterruptedException {
        out().println(java.time.Instant.now() + "  leader: " + (line.isEmpty() ? "(none)" : line.get(0).id() + "  token "
                + line.get(0).token()));
        out().flush();
        observer.addListener(leader -> {
            out().println(java.time.Instant.now() + "  leader: " + leader.map(p -> p.id() + "  token " + p.token()).orElse("(none)"));
            out().flush();
        });
        java.util.concurrent.CountDownLatch forever = new java.util.concurrent.CountDownLatch(1);
        if (duration != null) {
            forever.await(dev.zkrecipes.config.Durations.parse(duration).toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } else {
            forever.await();
        }
        return Zkr.OK;
    }
}
