package dev.zkrecipes.testing;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.awaitility.core.ConditionTimeoutException;

/**
 * A standalone ZooKeeper server, in a child JVM, that requires SASL {@code DIGEST-MD5}
 * authentication from every client, with the users and passwords given to {@link #start(Path, Map)}:
 * <pre>{@code
 * try (SaslZkServer server = SaslZkServer.start(tempDir, Map.of("alice", "alice-pw"))) {
 *     ... server.connectString() ...
 * }
 * }</pre>
 *
 * <p>The server runs in its own JVM because ZooKeeper's server side reads its JAAS configuration
 * ({@code Server} section) and its authentication providers once per JVM: started in the test JVM
 * they would stay for every later test. The test JVM gets no JAAS configuration and no system
 * property from this class.
 *
 * <p>Authentication is enforced with {@code enforce.auth.enabled=true} and
 * {@code enforce.auth.schemes=sasl} in {@code zoo.cfg} (ZooKeeper 3.9 copies unknown keys to
 * {@code zookeeper.*} system properties, where {@code AuthenticationHelper} reads them). A client
 * that has not authenticated with SASL is not refused at the handshake: it gets a session
 * ({@code SyncConnected}), but every request on it ({@code create}, {@code getData},
 * {@code exists}, ...) fails with
 * {@link org.apache.zookeeper.KeeperException.SessionClosedRequireAuthException}
 * ({@code SESSIONCLOSEDREQUIRESASLAUTH}), after which the server drops the connection but not the
 * session: the client sees {@code Disconnected}, then {@code SyncConnected} again on the same
 * session, and the next request fails the same way. There is no {@code AuthFailed} and no
 * {@code Expired} event.
 *
 * <p>{@link #stop()} and {@link #start()} (or {@link #restart()}) take the server down and bring it
 * back on the same port and data, as an ensemble that restarts: sessions and their nodes survive,
 * and each client must log in again on its new connection. {@link #users(Map)} changes the users
 * the next start accepts.
 *
 * <p>The child's standard output and error go to {@link #logFile()}, with the command line at the
 * top; ZooKeeper logs there at INFO. A JVM shutdown hook kills the child if the test JVM exits
 * without {@link #close()}; a test JVM killed with {@code SIGKILL} leaves it running.
 */
public final class SaslZkServer implements AutoCloseable {

    /** The JAAS section the server reads its users from. */
    public static final String SERVER_SECTION = "Server";

    /** The JAAS section a ZooKeeper client reads by default. */
    public static final String CLIENT_SECTION = "Client";

    private static final String DIGEST_LOGIN_MODULE = "org.apache.zookeeper.server.auth.DigestLoginModule";
    private static final Pattern USER_NAME = Pattern.compile("[A-Za-z0-9_]+");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
    private static final int LOG_TAIL_LINES = 40;

    private final List<String> command;
    private final Path jaasFile;
    private final int port;
    private final Path logFile;
    /** The running child; null while {@link #stop() stopped}. Guarded by {@code this}. */
    private Process process;
    private Thread shutdownHook;
    /** The last child, for {@link #process()} while stopped. */
    private Process lastProcess;
    private boolean closed;

    private SaslZkServer(List<String> command, Path jaasFile, int port, Path logFile) {
        this.command = List.copyOf(command);
        this.jaasFile = jaasFile;
        this.port = port;
        this.logFile = logFile;
    }

    /**
     * Starts a server on a free loopback port, with its configuration, data and log under
     * {@code dir}, accepting the given users (names of letters, digits and {@code _}), and waits up
     * to 30 s until it serves.
     *
     * @throws IllegalStateException if the child does not start or serve in time; the message holds
     *     the end of its log
     */
    public static SaslZkServer start(Path dir, Map<String, String> usersAndPasswords) {
        if (usersAndPasswords.isEmpty()) {
            throw new IllegalArgumentException("at least one user is needed");
        }
        Path jaas = dir.resolve("jaas-server.conf");
        Path config = dir.resolve("zoo.cfg");
        Path log = dir.resolve("zookeeper.log");
        int port = freePort();
        try {
            Files.createDirectories(dir.resolve("data"));
            Files.writeString(jaas, serverSection(usersAndPasswords));
            writeConfig(config, dir.resolve("data"), port);
        } catch (IOException e) {
            throw new UncheckedIOException("could not write the ZooKeeper configuration to " + dir, e);
        }

        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
        command.add("-Djava.security.auth.login.config=" + jaas);
        command.add("-Dzookeeper.authProvider.sasl=org.apache.zookeeper.server.auth.SASLAuthenticationProvider");
        // DIGEST-MD5 is not FIPS-approved: ZooKeeper 3.9 refuses it unless FIPS mode is off
        command.add("-Dzookeeper.fips-mode=false");
        // slf4j-simple is on the class path, set to WARN by simplelogger.properties: INFO in the log file
        command.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=info");
        command.add("-Dorg.slf4j.simpleLogger.log.org.apache.zookeeper=info");
        command.addAll(List.of("-cp", System.getProperty("java.class.path")));
        command.add("org.apache.zookeeper.server.ZooKeeperServerMain");
        command.add(config.toString());

        try {
            Files.writeString(log, "# " + String.join(" ", command) + System.lineSeparator());
        } catch (IOException e) {
            throw new UncheckedIOException("could not write " + log, e);
        }
        SaslZkServer server = new SaslZkServer(command, jaas, port, log);
        server.launch();
        return server;
    }

    /** Starts a child on this server's port, data and configuration, and waits until it serves. */
    private synchronized void launch() {
        Process child;
        try {
            child = new ProcessBuilder(command)
                    .directory(logFile.getParent().toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("could not start a child JVM for a SASL ZooKeeper server", e);
        }
        Thread hook = new Thread(child::destroyForcibly, "sasl-zk-server-killer-" + child.pid());
        Runtime.getRuntime().addShutdownHook(hook);
        process = child;
        lastProcess = child;
        shutdownHook = hook;

        try {
            // the port is free once the previous child is gone; a new child may need a moment to bind it
            await().atMost(START_TIMEOUT).pollInterval(Duration.ofMillis(100))
                    .until(() -> !child.isAlive() || "standalone".equals(ZkServers.mode(port)));
        } catch (ConditionTimeoutException e) {
            close();
            throw new IllegalStateException("the SASL ZooKeeper server on port " + port + " did not serve within "
                    + START_TIMEOUT.toSeconds() + " s; end of " + logFile + ":\n" + logTail(), e);
        }
        if (!child.isAlive()) {
            close();
            throw new IllegalStateException("the SASL ZooKeeper server exited with " + child.exitValue()
                    + " while starting; end of " + logFile + ":\n" + logTail());
        }
    }

    /**
     * Stops the server (as {@link #close()} does) but keeps its port, data directory (sessions and
     * nodes) and configuration, for {@link #start()}: a server that goes down and comes back. Does
     * nothing if it is already stopped.
     *
     * @throws IllegalStateException if closed
     */
    public synchronized void stop() {
        if (closed) {
            throw new IllegalStateException("the SASL ZooKeeper server is closed");
        }
        kill();
    }

    /**
     * Starts a {@link #stop() stopped} server again on the same port, data and configuration (the
     * users as last {@link #users set}), and waits up to 30 s until it serves. Sessions that the
     * server knew come back with it and expire after their timeout unless their clients return.
     *
     * @throws IllegalStateException if it is running or closed, or does not serve in time
     */
    public synchronized void start() {
        if (closed) {
            throw new IllegalStateException("the SASL ZooKeeper server is closed");
        }
        if (process != null) {
            throw new IllegalStateException("the SASL ZooKeeper server on port " + port + " is running: stop() it first");
        }
        appendToLog("# restarted on port " + port);
        launch();
    }

    /** {@link #stop()} then {@link #start()}: the same port, data and configuration. */
    public synchronized void restart() {
        stop();
        start();
    }

    /**
     * Replaces the users the server accepts (its JAAS {@code Server} section) from its next
     * {@link #start()} on: a password changed or a user removed at the server while clients run.
     */
    public synchronized void users(Map<String, String> usersAndPasswords) {
        if (usersAndPasswords.isEmpty()) {
            throw new IllegalArgumentException("at least one user is needed");
        }
        try {
            Files.writeString(jaasFile, serverSection(usersAndPasswords));
        } catch (IOException e) {
            throw new UncheckedIOException("could not write " + jaasFile, e);
        }
    }

    /** Whether the server is running (started and neither stopped nor closed). */
    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    private void appendToLog(String line) {
        try {
            Files.writeString(logFile, line + System.lineSeparator(), java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException ignored) {
            // the log is for people; a line missing from it changes nothing
        }
    }

    private static void writeConfig(Path config, Path dataDir, int port) throws IOException {
        Properties p = new Properties();
        p.setProperty("tickTime", Integer.toString(ZkServers.TICK_MILLIS));
        p.setProperty("maxSessionTimeout", "60000");
        p.setProperty("dataDir", dataDir.toString());
        p.setProperty("clientPort", Integer.toString(port));
        p.setProperty("clientPortAddress", "127.0.0.1");
        p.setProperty("admin.enableServer", "false");
        // copied to zookeeper.enforce.auth.* system properties in the child
        p.setProperty("enforce.auth.enabled", "true");
        p.setProperty("enforce.auth.schemes", "sasl");
        try (var out = Files.newBufferedWriter(config, StandardCharsets.UTF_8)) {
            p.store(out, "written by " + SaslZkServer.class.getName());
        }
    }

    private static String serverSection(Map<String, String> usersAndPasswords) {
        StringBuilder s = new StringBuilder(SERVER_SECTION).append(" {\n  ").append(DIGEST_LOGIN_MODULE).append(" required");
        usersAndPasswords.forEach((user, password) -> {
            if (!USER_NAME.matcher(user).matches()) {
                throw new IllegalArgumentException("user names are letters, digits and _ only: " + user);
            }
            s.append("\n  user_").append(user).append('=').append(quoted(password));
        });
        return s.append(";\n};\n").toString();
    }

    /**
     * A JAAS section named {@code Client}, the one a ZooKeeper client reads by default, logging in
     * as {@code user} with {@code password}: the text to write to a JAAS file.
     */
    public static String jaasClientSection(String user, String password) {
        return CLIENT_SECTION + " {\n  " + DIGEST_LOGIN_MODULE + " required\n  username=" + quoted(user)
                + "\n  password=" + quoted(password) + ";\n};\n";
    }

    private static String quoted(String value) {
        return '"' + value.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private String logTail() {
        try {
            List<String> lines = Files.readAllLines(logFile, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(could not read the log: " + e + ")";
        }
    }

    /** The client port, on {@code 127.0.0.1}. */
    public int port() {
        return port;
    }

    /** {@code 127.0.0.1:<port>}. */
    public String connectString() {
        return "127.0.0.1:" + port;
    }

    /** The (last) child JVM, for tests that check it is gone after {@link #close()}. */
    public synchronized ProcessHandle process() {
        return lastProcess.toHandle();
    }

    /** Where the child's standard output and error go. */
    public Path logFile() {
        return logFile;
    }

    /**
     * Stops the child JVM ({@code SIGTERM}, then {@code SIGKILL} after 10 s) for good and waits until
     * it is gone. Calling it again does nothing.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        kill();
    }

    /** Ends the running child, if any, and waits until it is gone. */
    private void kill() {
        Process child = process;
        if (child == null) {
            return;
        }
        process = null;
        try {
            child.destroy();
            if (!child.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                child.destroyForcibly();
                child.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            child.destroyForcibly();
            Thread.currentThread().interrupt();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or about to: it kills the child too
            }
        }
    }
}
