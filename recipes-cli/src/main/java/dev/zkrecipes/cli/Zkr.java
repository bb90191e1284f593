package dev.zkrecipes.cli;

import dev.zkrecipes.config.Durations;
import dev.zkrecipes.core.AlreadyExistsException;
import dev.zkrecipes.core.ConnectionLossException;
import dev.zkrecipes.core.NoSuchPathException;
import dev.zkrecipes.core.NotAuthorizedException;
import dev.zkrecipes.core.SaslConfig;
import dev.zkrecipes.core.TlsConfig;
import dev.zkrecipes.core.TlsHandshakeException;
import dev.zkrecipes.core.VersionConflictException;
import dev.zkrecipes.core.ZkRecipeException;
import dev.zkrecipes.core.ZkRecipes;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code zkr}: the zk-recipes command line. */
@Command(name = "zkr", mixinStandardHelpOptions = true, version = "zkr 0.1.0-SNAPSHOT",
        description = "Coordination recipes on ZooKeeper: leader election, locks, work queues, configuration.",
        subcommands = {DemoCommand.class, ElectCommand.class, LeaderCommand.class, LockCommand.class, LocksCommand.class,
                QueueCommand.class, ConfigCommand.class, FsCommand.class, ListCommand.class, BenchCommand.class,
                CompletionCommand.class, CommandLine.HelpCommand.class},
        footer = {"", "Exit codes:",
                "  0  success",
                "  1  failed (e.g. no leader); 'lock -- CMD' exits with CMD's own code",
                "  2  bad usage or bad input (names, paths, values)",
                "  3  no ZooKeeper server reachable, the connection was lost, or the TLS handshake failed",
                "  4  timed out (e.g. the lock was not free in time)",
                "  5  not found (no such key, path or task)",
                "  6  conflict (already exists, version changed, directory not empty)",
                "  7  not authorized: the ensemble refused this identity or its login (check --auth, --sasl and the node's ACL)",
                "  8  'lock -- CMD': the lock was lost while CMD ran (see --on-loss)",
                "  10 unexpected error (run with --verbose for the stack trace)",
                "  126, 127  'lock -- CMD': CMD is not executable, not found (the lock was not taken)",
                "  130, 143  interrupted (Ctrl-C), terminated (SIGTERM); a running command gets the signal first",
                "",
                "Credentials and TLS from the environment (keep secrets out of the command line, which 'ps' shows):",
                "  ZKR_CONNECT                   default for --connect",
                "  ZKR_AUTH                      digest credentials user:password",
                "  ZKR_PASSWORD                  the password for --auth USER",
                "  ZKR_JAAS_CONFIG               JAAS file for --sasl-jaas-section",
                "  ZKR_TLS_TRUSTSTORE_PASSWORD   password of --tls-truststore",
                "  ZKR_TLS_KEYSTORE_PASSWORD     password of --tls-keystore"})
public final class Zkr implements Runnable {

    static final int OK = 0;
    static final int FAILED = 1;
    static final int USAGE = 2;
    static final int UNREACHABLE = 3;
    static final int TIMEOUT = 4;
    static final int NOT_FOUND = 5;
    static final int CONFLICT = 6;
    static final int NOT_AUTHORIZED = 7;
    static final int LOCK_LOST = 8;
    static final int INTERNAL = 10;
    static final int COMMAND_NOT_EXECUTABLE = 126;
    static final int COMMAND_NOT_FOUND = 127;

    /** Where the environment is read; tests put their own here. */
    static Function<String, String> environment = System::getenv;

    @Option(names = "--connect", description = "host:port[,host:port...] of the ensemble (default: $ZKR_CONNECT or 127.0.0.1:2181)")
    String connect;

    @Option(names = "--namespace", description = "chroot for every path")
    String namespace;

    @Option(names = "--auth", description = {"digest user: USER, the password then from $ZKR_PASSWORD",
            "(USER:PASSWORD works too but shows in 'ps'; prefer $ZKR_AUTH or --auth-file)"})
    String auth;

    @Option(names = "--auth-file", description = "file whose first line is user:password (keep it mode 600)")
    Path authFile;

    @Option(names = "--sasl", description = {"send the --auth/--auth-file/$ZKR_AUTH credentials with SASL DIGEST-MD5",
            "instead of the digest scheme (for an ensemble that requires SASL)"})
    boolean sasl;

    @Option(names = "--sasl-jaas-section", paramLabel = "SECTION", description = {"log in with SASL through this section of",
            "the JAAS file $ZKR_JAAS_CONFIG (or -Djava.security.auth.login.config): Kerberos and other JAAS logins"})
    String saslJaasSection;

    @Option(names = "--tls-truststore", description = "connect over TLS, trusting the certificates in this store (.p12, .jks, .pem)")
    Path tlsTrustStore;

    @Option(names = "--tls-keystore", description = "client certificate and key for TLS (.p12, .jks, .pem)")
    Path tlsKeyStore;

    @Option(names = "--no-tls-hostname-verification", description = "accept a server certificate issued for another host name")
    boolean noHostnameVerification;

    @Option(names = "--session-timeout", description = "session timeout, e.g. 15s (default: ${DEFAULT-VALUE})", defaultValue = "15s")
    String sessionTimeout;

    @Option(names = "--verbose", description = "print stack traces of errors")
    boolean verbose;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--connect-timeout", description = "how long to wait for the ensemble, e.g. 5s (default: ${DEFAULT-VALUE})",
            defaultValue = "5s")
    String connectTimeout;

    @Override
    public void run() {
        // no command: a usage error, as the shell expects
        throw new CommandLine.ParameterException(spec.commandLine(), "say which command (zkr help COMMAND for one)");
    }

    /** Connects to the ensemble or fails with exit code 3 within the connection timeout. */
    ZkRecipes connect() {
        String connectString = connect != null ? connect : Optional.ofNullable(environment.apply("ZKR_CONNECT")).orElse("127.0.0.1:2181");
        ConnectString.check(connectString);
        Duration waitForEnsemble = Durations.parse(connectTimeout);
        ZkRecipes.Builder b = ZkRecipes.builder().connectString(connectString)
                .sessionTimeout(Durations.parse(sessionTimeout)).connectionTimeout(waitForEnsemble);
        if (namespace != null) {
            b.namespace(namespace);
        }
        String[] credentials = credentials();
        if (saslJaasSection != null) {
            if (credentials != null || sasl) {
                throw new IllegalArgumentException("--sasl-jaas-section logs in through JAAS: give no --auth, --auth-file,"
                        + " $ZKR_AUTH or --sasl with it");
            }
            String jaasFile = environment.apply("ZKR_JAAS_CONFIG");
            if (jaasFile != null) {
                // this process is zkr alone: the JVM-wide JAAS setting is ours to make
                System.setProperty("java.security.auth.login.config", jaasFile);
            }
            b.sasl(SaslConfig.jaasSection(saslJaasSection));
        } else if (sasl) {
            if (credentials == null) {
                throw new IllegalArgumentException("--sasl needs credentials: --auth USER with $ZKR_PASSWORD, --auth-file"
                        + " or $ZKR_AUTH");
            }
            b.sasl(SaslConfig.digest(credentials[0], credentials[1]));
        } else if (credentials != null) {
            b.digestAuth(credentials[0], credentials[1]);
        }
        if (tlsTrustStore != null) {
            TlsConfig.Builder tls = TlsConfig.builder()
                    .trustStore(tlsTrustStore, Objects.requireNonNullElse(environment.apply("ZKR_TLS_TRUSTSTORE_PASSWORD"), ""))
                    .hostnameVerification(!noHostnameVerification);
            if (tlsKeyStore != null) {
                tls.keyStore(tlsKeyStore, Objects.requireNonNullElse(environment.apply("ZKR_TLS_KEYSTORE_PASSWORD"), ""));
            }
            b.tls(tls.build());
        } else if (tlsKeyStore != null || noHostnameVerification) {
            throw new IllegalArgumentException("--tls-keystore and --no-tls-hostname-verification need --tls-truststore");
        }
        ZkRecipes zk = b.build();
        zk.start();
        try {
            if (!zk.awaitConnected(waitForEnsemble)) {
                zk.close();
                throw new ConnectionLossException("no ZooKeeper server reachable at " + connectString + " within "
                        + connectTimeout + " (--connect-timeout)", null);
            }
        } catch (InterruptedException e) {
            zk.close();
            Thread.currentThread().interrupt();
            throw new ConnectionLossException("interrupted while connecting to " + connectString, e);
        } catch (RuntimeException e) {
            zk.close();
            throw e;
        }
        return zk;
    }

    /**
     * Digest user and password, from (first found) --auth-file, --auth USER with $ZKR_PASSWORD,
     * --auth USER:PASSWORD, $ZKR_AUTH; null for none. Never echoed.
     */
    String[] credentials() {
        String pair;
        String from;
        if (authFile != null) {
            try {
                pair = Files.readAllLines(authFile, StandardCharsets.UTF_8).stream().findFirst().orElse("").strip();
            } catch (IOException e) {
                throw new IllegalArgumentException("--auth-file " + authFile + " cannot be read: " + e.getMessage());
            }
            from = "the first line of --auth-file " + authFile;
        } else if (auth != null && auth.indexOf(':') < 0) {
            String password = environment.apply("ZKR_PASSWORD");
            if (password == null) {
                throw new IllegalArgumentException("--auth " + auth + " needs the password in $ZKR_PASSWORD (or use --auth-file)");
            }
            return new String[] {auth, password};
        } else if (auth != null) {
            pair = auth;
            from = "--auth";
        } else {
            pair = environment.apply("ZKR_AUTH");
            from = "$ZKR_AUTH";
            if (pair == null) {
                return null;
            }
        }
        int colon = pair.indexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException(from + " must be user:password");
        }
        return new String[] {pair.substring(0, colon), pair.substring(colon + 1)};
    }

    /** Runs {@code zkr} with {@code args}, printing to the given writers; returns the exit code. */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        Zkr root = new Zkr();
        CommandLine cl = new CommandLine(root);
        withHelp(cl);
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

    /** --help on every subcommand, as on the root. */
    private static void withHelp(CommandLine cl) {
        for (CommandLine sub : cl.getSubcommands().values()) {
            if (!sub.getCommandSpec().mixinStandardHelpOptions() && !(sub.getCommand() instanceof CommandLine.HelpCommand)) {
                sub.getCommandSpec().mixinStandardHelpOptions(true);
            }
            withHelp(sub);
        }
    }

    static String message(Throwable e) {
        return e.getMessage() != null ? e.getMessage() : e.toString();
    }

    static int exitCode(Throwable e) {
        if (e instanceof NotAuthorizedException) {
            return NOT_AUTHORIZED;
        }
        if (e instanceof ConnectionLossException || e instanceof TlsHandshakeException || e instanceof dev.zkrecipes.core.SessionExpiredException) {
            return UNREACHABLE;
        }
        if (e instanceof NoSuchPathException) {
            return NOT_FOUND;
        }
        if (e instanceof AlreadyExistsException || e instanceof VersionConflictException
                || e instanceof dev.zkrecipes.core.DirectoryNotEmptyException) {
            return CONFLICT;
        }
        if (e instanceof IllegalArgumentException || e instanceof dev.zkrecipes.core.PayloadTooLargeException
                || e instanceof dev.zkrecipes.core.NotADirectoryException) {
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
        // Curator's DistributedQueue (a benchmark baseline) prints a stack trace for every message in
        // flight when it is closed: noise in the middle of the figures
        String queueLog = "org.slf4j.simpleLogger.log.org.apache.curator.framework.recipes.queue";
        System.setProperty(queueLog, System.getProperty(queueLog, "off"));
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        System.exit(execute(out, err, args));
    }
}
