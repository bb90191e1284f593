package dev.zkrecipes.cli;

import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.lock.DistributedLock;
import dev.zkrecipes.lock.LockHolder;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "locks", description = "Print the holder and the waiters of lock NAME, with ids and tokens.")
final class LocksCommand extends ConnectedCommand {

    @Parameters(index = "0", description = "lock name")
    String name;

    @Override
    String recipeName() {
        return name;
    }

    @picocli.CommandLine.Option(names = "--json", description = "[{id, token, holding}], holder first")
    boolean json;

    @Override
    int run(ZkRecipes zk) {
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
}
