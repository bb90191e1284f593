package dev.zkrecipes.cli;

import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.election.LeaderObserver;
import dev.zkrecipes.election.Participant;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "leader", description = "Print who leads election NAME (id, token, data) and who waits. Exit 1 if nobody.")
final class LeaderCommand extends ConnectedCommand {

    @Parameters(index = "0", description = "election name")
    String name;

    @Override
    String recipeName() {
        return name;
    }

    @Override
    int run(ZkRecipes zk) {
        try (LeaderObserver observer = LeaderObserver.of(zk, name)) {
            List<Participant> line = observer.participants();
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
}
