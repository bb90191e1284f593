package dev.zkrecipes.it.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.zkrecipes.config.ConfigStore;
import dev.zkrecipes.core.NotAuthorizedException;
import dev.zkrecipes.core.SaslConfig;
import dev.zkrecipes.core.ZkRecipeException;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.core.internal.SaslLogins;
import dev.zkrecipes.election.LeaderElector;
import dev.zkrecipes.election.Leadership;
import dev.zkrecipes.lock.DistributedLock;
import dev.zkrecipes.lock.LockHandle;
import dev.zkrecipes.testing.SaslZkServer;
import dev.zkrecipes.testing.TeeOutputStream;
import dev.zkrecipes.testing.ZkServers;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.security.auth.login.Configuration;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.RetryNTimes;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SASL logins under the faults a user meets: the ensemble restarting (same session) or staying down
 * past the session timeout (a new session), another client of the JVM closing, the JVM's JAAS
 * configuration replaced or named late, a password changed at the server, a server that does no
 * SASL at all. Each SASL client must log in again on every reconnect and every new session, and
 * every refusal must be loud ({@link NotAuthorizedException}), never a silent unauthenticated
 * client. The server ({@link SaslZkServer}) runs in a child JVM and is restarted on the same port
 * and data; the JVM's JAAS configuration is saved and put back around each test.
 */
class SaslFaultsIT {

    private static final Duration WAIT = Duration.ofSeconds(15);
    /** Long enough that a restart (about 2 s) keeps the session. */
    private static final Duration LONG_SESSION = Duration.ofSeconds(20);
    /** Short enough that a test can outlast it. */
    private static final Duration SHORT_SESSION = Duration.ofSeconds(3);
    private static final String ALICE_PW = "alice-Zk7q-secret";
    private static final String BOB_PW = "bob-Xw4r-secret";
    private static final Map<String, String> USERS = Map.of("alice", ALICE_PW, "bob", BOB_PW);
    private static final String JAAS_FILE_PROPERTY = "java.security.auth.login.config";
    private static final String DIGEST_LOGIN_MODULE = "org.apache.zookeeper.server.auth.DigestLoginModule";

    @TempDir
    static Path dir;

    private static SaslZkServer server;
    private final List<AutoCloseable> opened = new ArrayList<>();
    private Configuration jaasBefore;
    private String jaasFileBefore;
    private boolean usersChanged;

    @BeforeAll
    static void startServer() {
        server = SaslZkServer.start(dir.resolve("server"), USERS);
    }

    @AfterAll
    static void stopServer() {
        ZkServers.closeQuietly(server);
    }

    @BeforeEach
    void saveJaas() {
        jaasBefore = currentJaas();
        jaasFileBefore = System.getProperty(JAAS_FILE_PROPERTY);
    }

    @AfterEach
    void cleanUp() {
        for (int i = opened.size() - 1; i >= 0; i--) {
            ZkServers.closeQuietly(opened.get(i));
        }
        opened.clear();
        Configuration.setConfiguration(jaasBefore);
        if (jaasFileBefore == null) {
            System.clearProperty(JAAS_FILE_PROPERTY);
        } else {
            System.setProperty(JAAS_FILE_PROPERTY, jaasFileBefore);
        }
        if (usersChanged) {
            server.users(USERS);
            if (server.isRunning()) {
                server.stop();
            }
            usersChanged = false;
        }
        if (!server.isRunning()) {
            server.start();
        }
    }

    private static Configuration currentJaas() {
        try {
            return Configuration.getConfiguration();
        } catch (SecurityException none) {
            return null;
        }
    }

    private ZkRecipes built(String connectString, SaslConfig sasl, Duration session) {
        return built(connectString, sasl, session, 30);
    }

    private ZkRecipes built(String connectString, SaslConfig sasl, Duration session, int retries) {
        ZkRecipes.Builder b = ZkRecipes.builder().connectString(connectString).sessionTimeout(session)
                .connectionTimeout(Duration.ofSeconds(3)).retryPolicy(new RetryNTimes(retries, 100));
        if (sasl != null) {
            b.sasl(sasl);
        }
        ZkRecipes zk = b.build();
        opened.add(zk);
        return zk;
    }

    private ZkRecipes connected(SaslConfig sasl, Duration session) throws InterruptedException {
        ZkRecipes zk = built(server.connectString(), sasl, session);
        zk.start();
        assertThat(zk.awaitConnected(WAIT)).as("connected as %s", sasl).isTrue();
        return zk;
    }

    private static AtomicInteger lostStates(ZkRecipes zk) {
        AtomicInteger lost = new AtomicInteger();
        zk.curator().getConnectionStateListenable().addListener((c, state) -> {
            if (state == ConnectionState.LOST) {
                lost.incrementAndGet();
            }
        });
        return lost;
    }

    /** Passes only if the client is logged in now: the server refuses every request of one that is not. */
    private static void assertLoggedInAs(ZkRecipes zk, String user, String lockName) throws Exception {
        try (LockHandle h = DistributedLock.of(zk, lockName).tryAcquire(WAIT).orElseThrow()) {
            assertThat(zk.curator().getACL().forPath("/zkr/locks/" + lockName))
                    .containsExactly(new ACL(ZooDefs.Perms.ALL, new Id("sasl", user)));
        }
    }

    // ---------------------------------------------------------------- 1: the ensemble restarts

    @Test
    void aLockHolderAndALeaderLogInAgainAfterTheServerRestartsAndKeepTheirTerms() throws Exception {
        ZkRecipes alice = connected(SaslConfig.digest("alice", ALICE_PW), LONG_SESSION);
        List<KeeperState> sasl = SaslEvents.saslStates(alice);
        long session = alice.curator().getZookeeperClient().getZooKeeper().getSessionId();
        LockHandle held = DistributedLock.of(alice, "restart-lock").tryAcquire(WAIT).orElseThrow();
        opened.add(held);
        LeaderElector elector = LeaderElector.builder(alice, "restart-election").participantId("alice").build();
        opened.add(elector);
        elector.start();
        Leadership term = elector.awaitLeadership(WAIT).orElseThrow();

        server.restart();

        await("the reconnect logs in again").atMost(WAIT).until(() -> sasl.contains(KeeperState.SaslAuthenticated));
        await("the lock and the term come back").atMost(WAIT).until(() -> held.isValid() && elector.isLeader());
        assertThat(alice.curator().getZookeeperClient().getZooKeeper().getSessionId()).isEqualTo(session);
        assertThat(elector.awaitLeadership(WAIT).orElseThrow().token()).isEqualTo(term.token());
        assertThat(sasl).doesNotContain(KeeperState.AuthFailed);
        assertThat(alice.awaitConnected(WAIT)).isTrue();
        // a guarded write of the same lock, and a new recipe node: the server takes requests again
        assertThat(held.commit(alice.ops().check("/zkr/locks"))).hasSize(2);
        assertLoggedInAs(alice, "alice", "after-restart");
    }

    @Test
    void aNewSessionAfterExpiryLogsInAgainAndTheRecipesComeBack() throws Exception {
        ZkRecipes alice = connected(SaslConfig.digest("alice", ALICE_PW), SHORT_SESSION);
        List<KeeperState> sasl = SaslEvents.saslStates(alice);
        AtomicInteger lost = lostStates(alice);
        long session = alice.curator().getZookeeperClient().getZooKeeper().getSessionId();
        LockHandle held = DistributedLock.of(alice, "expiry-lock").tryAcquire(WAIT).orElseThrow();
        LeaderElector elector = LeaderElector.builder(alice, "expiry-election").participantId("alice").build();
        opened.add(elector);
        elector.start();
        Leadership term = elector.awaitLeadership(WAIT).orElseThrow();

        server.stop();
        await("the session is lost while the server is down").atMost(WAIT).until(() -> lost.get() > 0);
        server.start();

        // the server brings the old session back and expires it after its timeout: then the new session leads
        Leadership next = elector.awaitLeadership(Duration.ofSeconds(20)).orElseThrow();
        assertThat(next.token().isNewerThan(term.token())).isTrue();
        assertThat(alice.curator().getZookeeperClient().getZooKeeper().getSessionId()).isNotEqualTo(session);
        assertThat(sasl).as("the new session logged in").contains(KeeperState.SaslAuthenticated)
                .doesNotContain(KeeperState.AuthFailed);
        assertThat(held.isValid()).isFalse();
        held.close();
        try (LockHandle again = DistributedLock.of(alice, "expiry-lock").tryAcquire(WAIT).orElseThrow()) {
            assertThat(again.token().isNewerThan(held.token())).isTrue();
        }
        assertThat(alice.awaitConnected(WAIT)).isTrue();
        assertLoggedInAs(alice, "alice", "after-expiry");
    }

    // ---------------------------------------------------------------- 2: several clients in one JVM

    @Test
    void closingOneClientLeavesTheOtherClientsLoginForItsNextReconnect() throws Exception {
        ZkRecipes alice = connected(SaslConfig.digest("alice", ALICE_PW), LONG_SESSION);
        ZkRecipes bob = connected(SaslConfig.digest("bob", BOB_PW), LONG_SESSION);
        List<KeeperState> aliceSasl = SaslEvents.saslStates(alice);
        assertLoggedInAs(bob, "bob", "bob-before-close");

        bob.close();
        server.restart();

        await("alice logs in again").atMost(WAIT).until(() -> aliceSasl.contains(KeeperState.SaslAuthenticated));
        assertThat(aliceSasl).doesNotContain(KeeperState.AuthFailed);
        assertLoggedInAs(alice, "alice", "alice-after-bob-closed");
        assertThat(alice.awaitConnected(WAIT)).isTrue();
    }

    @Test
    void manyClientsBuiltAndClosedLeaveNoJaasSectionThreadOrWrapperBehind() throws Exception {
        long threadsBefore = zkThreads();
        // one client first, so that the library's JAAS configuration is in place before the baseline
        connected(SaslConfig.digest("alice", ALICE_PW), LONG_SESSION).close();
        int sectionsBefore = sections().size();
        Configuration jaas = Configuration.getConfiguration();

        for (int i = 0; i < 12; i++) {
            SaslConfig login = i % 2 == 0 ? SaslConfig.digest("alice", ALICE_PW) : SaslConfig.digest("bob", BOB_PW);
            ZkRecipes zk = built(server.connectString(), login, LONG_SESSION);
            if (i % 3 != 2) {
                zk.start();
                assertThat(zk.awaitConnected(WAIT)).isTrue();
            }
            zk.close();
        }

        assertThat(sections()).as("in-memory JAAS sections left behind").hasSize(sectionsBefore);
        assertThat(Configuration.getConfiguration()).as("the JVM's JAAS configuration").isSameAs(jaas);
        await("ZooKeeper client threads end").atMost(WAIT).until(() -> zkThreads() <= threadsBefore);
    }

    /** The library's in-memory sections (internal state, read to find a leak). */
    @SuppressWarnings("unchecked")
    private static Map<String, ?> sections() throws ReflectiveOperationException {
        Field f = SaslLogins.class.getDeclaredField("SECTIONS");
        f.setAccessible(true);
        return (Map<String, ?>) f.get(null);
    }

    private static long zkThreads() {
        return Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
                .filter(n -> n.contains("-SendThread(") || n.contains("-EventThread")).count();
    }

    @Test
    void theLoginSettingsStayWithTheirClientNotTheJvm() throws Exception {
        Map<Object, Object> propertiesBefore = Map.copyOf(System.getProperties());
        ZkRecipes alice = connected(SaslConfig.digest("alice", ALICE_PW), LONG_SESSION);
        ZkRecipes plain = built(server.connectString(), null, LONG_SESSION);
        plain.start();
        // the client without a login is refused, loudly, from awaitConnected on
        assertThat(catchThrowable(() -> plain.awaitConnected(WAIT))).isInstanceOf(NotAuthorizedException.class);

        ZKClientConfig aliceConfig = alice.curator().getZookeeperClient().getZooKeeper().getClientConfig();
        ZKClientConfig plainConfig = plain.curator().getZookeeperClient().getZooKeeper().getClientConfig();
        assertThat(aliceConfig.getProperty("zookeeper.fips-mode")).isEqualTo("false");
        assertThat(aliceConfig.getProperty(ZKClientConfig.LOGIN_CONTEXT_NAME_KEY)).startsWith("zkr-sasl-");
        // FIPS mode off and the login section are the SASL client's alone
        assertThat(plainConfig.getProperty("zookeeper.fips-mode")).isNull();
        assertThat(plainConfig.getProperty(ZKClientConfig.LOGIN_CONTEXT_NAME_KEY)).isNull();
        assertThat(System.getProperties()).as("system properties").containsExactlyInAnyOrderEntriesOf(propertiesBefore);
        assertThat(catchThrowable(() -> DistributedLock.of(plain, "plain-lock").tryAcquire(Duration.ofSeconds(5))))
                .isInstanceOf(NotAuthorizedException.class);
    }

    // ---------------------------------------------------------------- 3: the JVM's JAAS configuration replaced

    @Test
    void replacingTheJvmsJaasConfigurationFailsTheNextReconnectLoudly() throws Exception {
        // few retries: each one waits for a reconnect that the server drops again
        ZkRecipes alice = built(server.connectString(), SaslConfig.digest("alice", ALICE_PW), LONG_SESSION, 3);
        alice.start();
        assertThat(alice.awaitConnected(WAIT)).isTrue();
        List<KeeperState> sasl = SaslEvents.saslStates(alice);

        // user code (another library) installs a JAAS configuration of its own, without ours
        Configuration.setConfiguration(SaslEvents.emptyJaas());
        server.restart();
        await().atMost(WAIT).until(() -> sasl.contains(KeeperState.AuthFailed));

        SoftAssertions soft = new SoftAssertions();
        Throwable verdict = catchThrowable(() -> alice.awaitConnected(Duration.ofSeconds(5)));
        soft.assertThat(verdict).as("awaitConnected after the failed login").isInstanceOf(NotAuthorizedException.class)
                .hasMessageContaining("SASL");
        long start = System.nanoTime();
        AtomicReference<Object> store = new AtomicReference<>();
        Throwable refused = catchThrowable(() -> store.set(ConfigStore.open(alice, "after-jaas-replaced", Duration.ofSeconds(5))));
        // ZooKeeper tells the failed login on the connection only; its requests just see the
        // connection dropped. The recipes still say why, within their bound, never with a result.
        soft.assertThat(refused).as("ConfigStore.open on the unauthenticated connection (returned %s after %d ms)",
                store.get(), Duration.ofNanos(System.nanoTime() - start).toMillis())
                .isInstanceOf(NotAuthorizedException.class).hasMessageContaining("SASL");
        soft.assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(15));
        closeIfAny(store.get());
        start = System.nanoTime();
        AtomicReference<Object> lock = new AtomicReference<>();
        refused = catchThrowable(() -> lock.set(DistributedLock.of(alice, "after-jaas-replaced").tryAcquire(Duration.ofSeconds(5))));
        soft.assertThat(refused).as("tryAcquire on the unauthenticated connection (returned %s after %d ms)", lock.get(),
                Duration.ofNanos(System.nanoTime() - start).toMillis()).isInstanceOf(NotAuthorizedException.class);
        soft.assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(8));
        soft.assertAll();
    }

    private static void closeIfAny(Object o) {
        if (o instanceof AutoCloseable c) {
            ZkServers.closeQuietly(c);
        }
    }

    @Test
    void aClientWhoseLoginFailedOnceRecoversOnceItCanLogInAgainAndAwaitConnectedSaysSo() throws Exception {
        ZkRecipes alice = connected(SaslConfig.digest("alice", ALICE_PW), LONG_SESSION);
        List<KeeperState> sasl = SaslEvents.saslStates(alice);
        Configuration ours = Configuration.getConfiguration();
        Configuration.setConfiguration(SaslEvents.emptyJaas());
        server.restart();
        await().atMost(WAIT).until(() -> sasl.contains(KeeperState.AuthFailed));

        // the configuration comes back (the other library put it back, or a client built next re-installs it)
        Configuration.setConfiguration(ours);
        server.restart();

        await("logged in again").atMost(WAIT).until(() -> sasl.lastIndexOf(KeeperState.SaslAuthenticated)
                > sasl.lastIndexOf(KeeperState.AuthFailed));
        assertLoggedInAs(alice, "alice", "after-recovery");
        Throwable verdict = catchThrowable(() -> assertThat(alice.awaitConnected(WAIT)).isTrue());
        assertThat(verdict).as("awaitConnected of a client that works and is logged in").isNull();
    }

    @Test
    void aPasswordChangedAtTheServerFailsTheReconnectLoudlyAndAWaitingCallerIsNotToldConnected() throws Exception {
        ZkRecipes alice = connected(SaslConfig.digest("alice", ALICE_PW), LONG_SESSION);
        List<KeeperState> sasl = SaslEvents.saslStates(alice);

        server.stop();
        usersChanged = true;
        server.users(Map.of("alice", "rotated-pw", "bob", BOB_PW));
        await().atMost(WAIT).until(() -> !alice.curator().getZookeeperClient().isConnected());
        // the caller waits for the connection to come back, as an application does after an outage
        CountDownLatch waitingStarted = new CountDownLatch(1);
        AtomicReference<String> answeredWhen = new AtomicReference<>("never");
        CompletableFuture<Boolean> waiting = CompletableFuture.supplyAsync(() -> {
            waitingStarted.countDown();
            try {
                boolean connected = alice.awaitConnected(WAIT);
                answeredWhen.set("after SASL events " + sasl);
                return connected;
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(waitingStarted.await(5, TimeUnit.SECONDS)).isTrue();
        server.start();
        await().atMost(WAIT).until(() -> sasl.contains(KeeperState.AuthFailed));

        SoftAssertions soft = new SoftAssertions();
        Throwable waited = catchThrowable(() -> waiting.get(WAIT.toSeconds(), TimeUnit.SECONDS));
        soft.assertThat(waited).as("the caller that waited across the outage (%s)", answeredWhen.get())
                .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(NotAuthorizedException.class);
        Throwable verdict = catchThrowable(() -> alice.awaitConnected(Duration.ofSeconds(5)));
        soft.assertThat(verdict).as("awaitConnected after the refusal").isInstanceOf(NotAuthorizedException.class)
                .hasMessageNotContaining(ALICE_PW);
        long start = System.nanoTime();
        AtomicReference<Object> lock = new AtomicReference<>();
        Throwable refused = catchThrowable(() -> lock.set(DistributedLock.of(alice, "after-rotation").tryAcquire(Duration.ofSeconds(5))));
        // the refused login is told by the lock too, within its bound, never as "held by someone else"
        soft.assertThat(refused).as("tryAcquire after the refused login (returned %s after %d ms)", lock.get(),
                Duration.ofNanos(System.nanoTime() - start).toMillis()).isInstanceOf(NotAuthorizedException.class);
        soft.assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(8));
        start = System.nanoTime();
        AtomicReference<Object> store = new AtomicReference<>();
        refused = catchThrowable(() -> store.set(ConfigStore.open(alice, "after-rotation", Duration.ofSeconds(5))));
        soft.assertThat(refused).as("ConfigStore.open after the refused login (returned %s after %d ms)", store.get(),
                Duration.ofNanos(System.nanoTime() - start).toMillis()).isInstanceOf(NotAuthorizedException.class);
        closeIfAny(store.get());
        soft.assertAll();
    }

    // ---------------------------------------------------------------- 4: the password is never printed

    @Test
    void thePasswordIsInNoMessageToStringOrLogLine() throws Exception {
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream out = System.out;
        PrintStream err = System.err;
        System.setOut(new PrintStream(new TeeOutputStream(out, captured), true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(new TeeOutputStream(err, captured), true, StandardCharsets.UTF_8));
        Throwable refused;
        ZkRecipes alice;
        try {
            ZkRecipes wrong = built(server.connectString(), SaslConfig.digest("alice", "wrong-Pw9z-secret"), LONG_SESSION);
            wrong.start();
            refused = catchThrowable(() -> wrong.awaitConnected(WAIT));
            alice = connected(SaslConfig.digest("alice", ALICE_PW), LONG_SESSION);
            assertLoggedInAs(alice, "alice", "no-password-printed");
        } finally {
            System.setOut(out);
            System.setErr(err);
        }

        assertThat(refused).isInstanceOf(NotAuthorizedException.class);
        StringWriter trace = new StringWriter();
        refused.printStackTrace(new PrintWriter(trace));
        ZooKeeper zk = alice.curator().getZookeeperClient().getZooKeeper();
        ZKClientConfig config = zk.getClientConfig();
        List<String> printed = List.of(trace.toString(), captured.toString(StandardCharsets.UTF_8), alice.toString(),
                zk.toString(), String.valueOf(config.getProperty(ZKClientConfig.LOGIN_CONTEXT_NAME_KEY)),
                SaslConfig.digest("alice", ALICE_PW).toString(), alice.curator().toString());
        for (String text : printed) {
            assertThat(text).doesNotContain(ALICE_PW).doesNotContain("wrong-Pw9z-secret");
        }
        assertThat(captured.toString(StandardCharsets.UTF_8)).as("the refused login was logged").isNotEmpty();
    }

    // ---------------------------------------------------------------- 5: awaitConnected

    @Test
    void aSaslClientIsConnectedPromptlyAndOnlyOnceLoggedIn() throws Exception {
        ZkRecipes alice = built(server.connectString(), SaslConfig.digest("alice", ALICE_PW), LONG_SESSION);
        long start = System.nanoTime();
        alice.start();

        assertThat(alice.awaitConnected(WAIT)).isTrue();

        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(took).as("connect and log in").isLessThan(Duration.ofSeconds(2));
        assertThat(alice.curator().getZookeeperClient().getZooKeeper().getSaslClient().isComplete())
                .as("the SASL exchange is over when awaitConnected returns true").isTrue();
    }

    @Test
    void aSaslClientOfAServerWithoutSaslIsToldSoAndNotConnectedUnauthenticated() throws Exception {
        TestingServer plain = ZkServers.startServer();
        try {
            ZkRecipes alice = built(plain.getConnectString(), SaslConfig.digest("alice", ALICE_PW), LONG_SESSION);
            alice.start();
            long start = System.nanoTime();

            Throwable verdict = catchThrowable(() -> assertThat(alice.awaitConnected(Duration.ofSeconds(10)))
                    .as("awaitConnected of a SASL client whose server did no SASL").isFalse());

            Duration took = Duration.ofNanos(System.nanoTime() - start);
            System.out.printf("SaslFaultsIT: against a server without SASL, awaitConnected gave %s after %d ms%n",
                    verdict == null ? "false" : verdict.toString(), took.toMillis());
            assertThat(verdict).as("the user asked for SASL: a server that does none is a refused login")
                    .isInstanceOf(NotAuthorizedException.class).hasMessageContaining("SASL");
            assertThat(took).as("within the connection timeout").isLessThan(Duration.ofSeconds(5));
        } finally {
            // while the server is still up: a close against a stopped server waits for its reply
            for (AutoCloseable c : opened) {
                ZkServers.closeQuietly(c);
            }
            ZkServers.closeQuietly(plain);
        }
    }

    // ---------------------------------------------------------------- 6: the delegating JAAS configuration

    @Test
    void aJaasFileNamedAfterTheFirstDigestClientIsStillRead() throws Exception {
        // a JVM started without a JAAS file, as most are
        System.clearProperty(JAAS_FILE_PROPERTY);
        Configuration.setConfiguration(null);
        connected(SaslConfig.digest("alice", ALICE_PW), LONG_SESSION).close();

        // later another component names a JAAS file and reloads the configuration, the documented way
        Path jaasFile = dir.resolve("late-jaas.conf");
        Files.writeString(jaasFile, "ZkrLateClient {\n  " + DIGEST_LOGIN_MODULE + " required\n  username=\"alice\"\n"
                + "  password=\"" + ALICE_PW + "\";\n};\n");
        System.setProperty(JAAS_FILE_PROPERTY, jaasFile.toString());
        Configuration.getConfiguration().refresh();

        Throwable built = catchThrowable(() -> connected(SaslConfig.jaasSection("ZkrLateClient"), LONG_SESSION));
        assertThat(built).as("a client of a section of the JVM's (late) JAAS file").isNull();
        assertThat(Configuration.getConfiguration().getAppConfigurationEntry("ZkrLateClient"))
                .as("another library's view of the file").isNotNull();
    }
}
