package dev.zkrecipes.cli;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.zkrecipes.config.internal.Durations;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.election.LeaderElector;
import dev.zkrecipes.election.Leadership;
import dev.zkrecipes.election.LeadershipListener;
import dev.zkrecipes.election.RevocationReason;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "elect", description = "Join election NAME and print every change of leadership until Ctrl-C (or --for).")
final class ElectCommand extends ConnectedCommand {

    @Parameters(index = "0", description = "election name")
    String name;

    @Override
    String recipeName() {
        return name;
    }

    @Option(names = "--id", required = true, description = "this participant's id")
    String id;

    @Option(names = "--data", description = "what others read about this participant while it leads")
    String data = "";

    @Option(names = "--for", description = "leave after this long, e.g. 30s (default: until interrupted)")
    String duration;

    @Override
    int run(ZkRecipes zk) throws Exception {
        CountDownLatch forever = new CountDownLatch(1);
        try (LeaderElector elector = LeaderElector.builder(zk, name).participantId(id).data(data.getBytes(UTF_8))
                .listener(new LeadershipListener() {
                    @Override
                    public void elected(Leadership term) {
                        out().println(id + " leads election '" + name + "' with token " + term.token());
                        out().flush();
                    }

                    @Override
                    public void revoked(Leadership term, RevocationReason reason) {
                        out().println(id + " no longer leads (" + reason + "), token " + term.token());
                        out().flush();
                    }
                }).build()) {
            elector.start();
            out().println(id + " joined election '" + name + "'");
            out().flush();
            if (duration != null) {
                forever.await(Durations.parse(duration).toMillis(), TimeUnit.MILLISECONDS);
            } else {
                forever.await();
            }
        }
        return Zkr.OK;
    }
}
