package dev.zkrecipes.cli;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.zkrecipes.config.Durations;
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

@Command(name = "elect", description = {"Join election NAME and print every change of leadership until Ctrl-C, SIGTERM",
        "or --for; then leave at once (the next participant takes over without waiting for the session to end)."})
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
        CountDownLatch left = new CountDownLatch(1);
        // Ctrl-C or SIGTERM: leave the election before the JVM exits, so the leader's node goes now
        Thread onSignal = new Thread(() -> {
            forever.countDown();
            try {
                left.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "zkr-elect-signal");
        Runtime.getRuntime().addShutdownHook(onSignal);
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
            awaitJoined(elector);
            out().println(id + " joined election '" + name + "'");
            out().flush();
            if (duration != null) {
                forever.await(Durations.parse(duration).toMillis(), TimeUnit.MILLISECONDS);
            } else {
                forever.await();
            }
        } finally {
            left.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(onSignal);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running: it waited for this
            }
        }
        out().println(id + " left election '" + name + "'");
        out().flush();
        return Zkr.OK;
    }

    /**
     * Returns once this participant is in the line; throws the ensemble's refusal (not authorized)
     * or, after the connection timeout, says it could not join. Never claims to have joined when
     * it has not.
     */
    private void awaitJoined(LeaderElector elector) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            elector.isLeader(); // throws NotAuthorizedException once the ensemble refused our place
            if (elector.participants().stream().anyMatch(p -> p.id().equals(id))) {
                return;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new dev.zkrecipes.core.ConnectionLossException("could not join election '" + name
                        + "' within 10 s", null);
            }
            elector.awaitLeadership(java.time.Duration.ofMillis(20));
        }
    }
}
