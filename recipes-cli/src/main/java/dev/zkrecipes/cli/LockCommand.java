package dev.zkrecipes.cli;

import dev.zkrecipes.config.Durations;
import dev.zkrecipes.core.FencingToken;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.lock.DistributedLock;
import dev.zkrecipes.lock.LockHandle;
import dev.zkrecipes.lock.LockListener;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "lock", description = {"Run a command while holding lock NAME; its exit code passes through.",
        "",
        "What a distributed lock can promise: while ZooKeeper keeps zkr's session, no other holder. What it",
        "cannot: a holder learns of a loss (session expired while the network or the process was stopped)",
        "only when it runs again, so for a moment two commands may act. The fencing token, in",
        "$ZKR_FENCING_TOKEN and printed on stderr, grows with every holder: have the resource refuse a token",
        "lower than the highest it has seen.",
        "",
        "SIGTERM and SIGINT are passed to the command; zkr waits for it (up to --grace, then kills it) and",
        "releases the lock before it exits. If the lock is lost while the command runs, --on-loss decides:",
        "kill (default: SIGTERM, then SIGKILL after --grace), signal (SIGTERM only) or ignore; zkr then exits 8.",
        "The program is checked before the lock is taken: 127 if not found, 126 if not executable.",
        "  zkr lock backups --timeout 10s -- ./backup.sh"})
final class LockCommand extends ConnectedCommand {

    /** How a lost lock is handled while the command runs. */
    enum OnLoss { kill, signal, ignore }

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

    @Option(names = "--on-loss", description = "what to do with the command if the lock is lost: ${COMPLETION-CANDIDATES}"
            + " (default: ${DEFAULT-VALUE})", defaultValue = "kill")
    OnLoss onLoss;

    @Option(names = "--grace", description = "how long the command may take to stop after SIGTERM before SIGKILL"
            + " (default: ${DEFAULT-VALUE})", defaultValue = "10s")
    String grace;

    @Override
    Integer refuseBeforeConnecting() {
        Durations.parse(grace);
        if (timeout != null) {
            Durations.parse(timeout);
        }
        String program = command.get(0);
        Path found = resolve(program);
        if (found == null) {
            err().println("zkr: " + program + ": command not found (the lock was not taken)");
            return Zkr.COMMAND_NOT_FOUND;
        }
        if (!Files.isExecutable(found) || Files.isDirectory(found)) {
            err().println("zkr: " + program + ": not executable (the lock was not taken)");
            return Zkr.COMMAND_NOT_EXECUTABLE;
        }
        return null;
    }

    /** Where the program is, as a shell would look it up; null if nowhere. */
    private static Path resolve(String program) {
        if (program.contains(File.separator)) {
            Path p = Path.of(program);
            return Files.exists(p) ? p : null;
        }
        String path = System.getenv("PATH");
        for (String dir : (path == null ? "" : path).split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            Path p = Path.of(dir, program);
            if (Files.exists(p)) {
                return p;
            }
        }
        return null;
    }

    @Override
    int run(ZkRecipes zk) throws Exception {
        Duration graceTime = Durations.parse(grace);
        DistributedLock lock = DistributedLock.of(zk, name);
        AtomicReference<Process> child = new AtomicReference<>();
        AtomicBoolean lost = new AtomicBoolean();
        lock.addListener(new LockListener() {
            @Override
            public void lost(FencingToken token) {
                Process p = child.get();
                if (p == null || !lost.compareAndSet(false, true)) {
                    return;
                }
                err().println("zkr: lock '" + name + "' (token " + token.value() + ") was lost while the command ran"
                        + (onLoss == OnLoss.ignore ? "; it keeps running (--on-loss ignore)" : "; stopping it (--on-loss " + onLoss + ")"));
                err().flush();
                if (onLoss == OnLoss.kill) {
                    stop(p, graceTime);
                } else if (onLoss == OnLoss.signal) {
                    p.destroy();
                }
            }
        });
        Optional<LockHandle> handle = timeout == null ? Optional.of(lock.acquire()) : lock.tryAcquire(Durations.parse(timeout));
        if (handle.isEmpty()) {
            err().println("zkr: lock '" + name + "' was not free within " + timeout);
            return Zkr.TIMEOUT;
        }
        CountDownLatch released = new CountDownLatch(1);
        Thread forwarder = new Thread(() -> {
            // SIGTERM or SIGINT: pass it on, wait for the command, and for the lock's release
            Process p = child.get();
            if (p != null) {
                stop(p, graceTime);
            }
            try {
                released.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "zkr-lock-signal");
        try (LockHandle h = handle.get()) {
            err().println("zkr: holding lock '" + name + "' with fencing token " + h.token().value());
            err().flush();
            ProcessBuilder pb = new ProcessBuilder(command).inheritIO();
            pb.environment().put("ZKR_FENCING_TOKEN", Long.toString(h.token().value()));
            child.set(pb.start());
            Runtime.getRuntime().addShutdownHook(forwarder);
            int code = child.get().waitFor();
            return lost.get() ? Zkr.LOCK_LOST : code;
        } finally {
            released.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(forwarder);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running: it waited for this release
            }
        }
    }

    /** SIGTERM, then SIGKILL if the command has not ended within {@code grace}. */
    private static void stop(Process p, Duration grace) {
        p.destroy();
        try {
            if (!p.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
