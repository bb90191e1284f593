package dev.zkrecipes.cli;

import dev.zkrecipes.config.internal.Durations;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.lock.DistributedLock;
import dev.zkrecipes.lock.LockHandle;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "lock", description = {"Run a command while holding lock NAME; its exit code passes through.",
        "The flock of a cluster. The command sees the fencing token in ZKR_FENCING_TOKEN.",
        "  zkr lock backups --timeout 10s -- ./backup.sh"})
final class LockCommand extends ConnectedCommand {

    @Parameters(index = "0", description = "lock name")
    String name;

    @Override
    String recipeName() {
        return name;
    }

    @Parameters(index = "1..*", arity = "1..*", description = "the command and its arguments (after --)")
    List<String> command;

    @Option(names = "--timeout", description = "give up (exit 4) if the lock is not free in time, e.g. 10s (default: wait)")
    String timeout;

    @Override
    int run(ZkRecipes zk) throws Exception {
        DistributedLock lock = DistributedLock.of(zk, name);
        Optional<LockHandle> handle = timeout == null ? Optional.of(lock.acquire()) : lock.tryAcquire(Durations.parse(timeout));
        if (handle.isEmpty()) {
            err().println("zkr: lock '" + name + "' was not free within " + timeout);
            return Zkr.TIMEOUT;
        }
        try (LockHandle h = handle.get()) {
            ProcessBuilder pb = new ProcessBuilder(command).inheritIO();
            pb.environment().put("ZKR_FENCING_TOKEN", Long.toString(h.token().value()));
            return pb.start().waitFor();
        }
    }
}
