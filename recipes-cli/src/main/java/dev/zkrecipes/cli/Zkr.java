package dev.zkrecipes.cli;

import dev.zkrecipes.config.internal.Durations;
import dev.zkrecipes.core.AlreadyExistsException;
import dev.zkrecipes.core.ConnectionLossException;
import dev.zkrecipes.core.NoSuchPathException;
import dev.zkrecipes.core.VersionConflictException;
import dev.zkrecipes.core.ZkRecipeException;
import dev.zkrecipes.core.ZkRecipes;
import java.io.PrintWriter;
import java.time.Duration;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code zkr}: the zk-recipes command line. */
@Command(name = "zkr", mixinStandardHelpOptions = true, version = "zkr 0.1.0-SNAPSHOT",
        description = "Coordination recipes on ZooKeeper: leader election, locks, work queues, configuration.",
        subcommands = {DemoCommand.class, ElectCommand.class, LeaderCommand.class, LockCommand.class, LocksCommand.class,
                QueueCommand.class, ConfigCommand.class, FsCommand.class, BenchCommand.class},
        footer = {"", "Exit codes:",
                "  0  success",
                "  1  failed (e.g. no leader); 'lock -- CMD' exits with CMD's own code",
                "  2  bad usage or bad input (names, paths, values)",
                "  3  no ZooKeeper server reachable, or the connection was lost",
                "  4  timed out (e.g. the lock was not free in time)",
                "  5  not found (no such key, path or task)",
                "  6  conflict (already exists, version changed)",
                "  10 unexpected error (run with --verbose for the stack trace)"})
public final class Zkr implements Runnable {

    static final int OK = 0;
    static final int FAILED = 1;
    static final int USAGE = 2;
    static final int UNREACHABLE = 3;
    static final int TIMEOUT = 4;
    static final int NOT_FOUND = 5;
    static final int CONFLICT = 6;
    static final int INTERNAL = 10;

    @Option(names = "--connect", description = "host:port[,host:port...] of the ensemble (default: ${DEFAULT-VALUE})",
            defaultValue = "127.0.0.1:2181")
    String connect;

    @Option(names = "--namespace", description = "chroot for every path")
    String namespace;

    @Option(names = "--auth", description = "digest credentials user:password; nodes are then created creator-only")
    String auth;

    @Option(names = "--session-timeout", description = "session timeout, e.g. 15s (default: ${DEFAULT-VALUE})", defaultValue = "15s")
    String sessionTimeout;

    @Option(names = "--verbose", description = "print stack traces of errors")
    boolean verbose;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Connects to the ensemble or fails with exit code 3 within the connection timeout. */
    ZkRecipes connect() {
        ZkRecipes.Builder b = ZkRecipes.builder().connectString(connect)
                .sessionTimeout(Durations.parse(sessionTimeout)).connectionTimeout(Duration.ofSeconds(5));
        if (namespace != null) {
            b.namespace(namespace);
        }
        if (auth != null) {
            int colon = auth.indexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("--auth must be user:password");
            }
            b.digestAuth(auth.substring(0, colon), auth.substring(colon + 1));
        }
        ZkRecipes zk = b.build();
        zk.start();
        try {
            if (!zk.awaitConnected(Duration.ofSeconds(5))) {
                zk.close();
                throw new ConnectionLossException("no ZooKeeper server reachable at " + connect + " within 5 s", null);
            }
        } catch (InterruptedException e) {
            zk.close();
            Thread.currentThread().interrupt();
            throw new ConnectionLossException("interrupted while connecting to " + connect, e);
        }
        return zk;
    }

    /** Runs {@code zkr} with {@code args}, printing to the given writers; returns the exit code. */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        Zkr root = new Zkr();
        CommandLine cl = new CommandLine(root);
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            commandLine.getErr().println("zkr: " + message(e));
            if (root.verbose) {
                e.printStackTrace(commandLine.getErr());
            }
            commandLine.getErr().flush();
            return exitCode(e);
        });
        int code = cl.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    static String message(Throwable e) {
        return e.getMessage() != null ? e.getMessage() : e.toString();
    }

    static int exitCode(Throwable e) {
        if (e instanceof ConnectionLossException || e instanceof dev.zkrecipes.core.SessionExpiredException) {
            return UNREACHABLE;
        }
        if (e instanceof NoSuchPathException) {
            return NOT_FOUND;
        }
        if (e instanceof AlreadyExistsException || e instanceof VersionConflictException) {
            return CONFLICT;
        }
        if (e instanceof IllegalArgumentException || e instanceof dev.zkrecipes.core.PayloadTooLargeException
                || e instanceof dev.zkrecipes.core.NotADirectoryException
                || e instanceof dev.zkrecipes.core.DirectoryNotEmptyException) {
            return USAGE;
        }
        if (e instanceof ZkRecipeException) {
            return FAILED;
        }
        return INTERNAL;
    }

    public static void main(String[] args) {
        // the embedded servers and clients report every fault a demo or benchmark provokes: keep them quiet
        for (String logger : new String[] {"defaultLogLevel", "log.org.apache.zookeeper", "log.org.apache.curator"}) {
            String key = "org.slf4j.simpleLogger." + logger;
            System.setProperty(key, System.getProperty(key, "error"));
        }
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        System.exit(execute(out, err, args));
    }
}
