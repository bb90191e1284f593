package dev.zkrecipes.it.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.zkrecipes.config.ConfigStore;
import dev.zkrecipes.core.ConnectionLossException;
import dev.zkrecipes.core.NotAuthorizedException;
import dev.zkrecipes.core.SaslConfig;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.core.internal.SaslRefusals;
import dev.zkrecipes.lock.DistributedLock;
import dev.zkrecipes.lock.LockHandle;
import dev.zkrecipes.testing.LoopbackProxy;
import dev.zkrecipes.testing.SaslZkServer;
import dev.zkrecipes.testing.ZkServers;
import java.lang.ref.WeakReference;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.security.auth.login.Configuration;
import org.apache.curator.CuratorZookeeperClient;
import org.apache.curator.retry.RetryNTimes;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Review of the SASL-refusal memory ({@link SaslRefusals}): a client the ensemble will not serve
 * for want of a SASL login is told {@link NotAuthorizedException}; a client that IS served must
 * still be told {@link ConnectionLossException} (or an empty tryAcquire) on an ordinary connection
 * loss, and a refused client must be told the refusal by every recipe call that runs out of time.
 * One SASL-only server ({@link SaslZkServer}, child JVM) for the class; one test swaps it for a
 * plain server on the same port for a while (an ensemble restarted without the requirement).
 */
class SaslRefusalReviewIT {

    private static final Duration WAIT = Duration.ofSeconds(15);
    private static final String ALICE_PW = "alice-Rv3w-secret";

    @TempDir
    static Path dir;

    private static SaslZkServer server;
    private final List<AutoCloseable> opened = new ArrayList<>();
    private Configuration jaasBefore;

    @BeforeAll
    static void startServer() {
        server = SaslZkServer.start(dir.resolve("server"), Map.of("alice", ALICE_PW));
    }

    @AfterAll
    static void stopServer() {
        ZkServers.closeQuietly(server);
    }

    @AfterEach
    void cleanUp() {
        for (int i = opened.size() - 1; i >= 0; i--) {
            ZkServers.closeQuietly(opened.get(i));
        }
        opened.clear();
        if (jaasBefore != null) {
            Configuration.setConfiguration(jaasBefore);
            jaasBefore = null;
        }
        if (!server.isRunning()) {
            server.start();
        }
    }

    /** Short timeouts and few retries: a foreground call on a dead connection ends within a few seconds. */
    private ZkRecipes client(String connectString, SaslConfig sasl, Duration session) throws InterruptedException {
        ZkRecipes.Builder b = ZkRecipes.builder().connectString(connectString).sessionTimeout(session)
                .connectionTimeout(Duration.ofSeconds(1)).retryPolicy(new RetryNTimes(1, 100));
        if (sasl != null) {
            b.sasl(sasl);
        }
        ZkRecipes zk = b.build();
        opened.add(zk);
        zk.start();
        assertThat(zk.awaitConnected(WAIT)).as("connected as %s", sasl).isTrue();
        return zk;
    }

    /** A client without a login on the SASL-only server: awaitConnected says it is refused. */
    private ZkRecipes refusedClient(Duration session) {
        ZkRecipes zk = ZkRecipes.builder().connectString(server.connectString()).sessionTimeout(session)
                .connectionTimeout(Duration.ofSeconds(1)).retryPolicy(new RetryNTimes(1, 100)).build();
        opened.add(zk);
        zk.start();
        assertThatThrownBy(() -> zk.awaitConnected(WAIT)).isInstanceOf(NotAuthorizedException.class)
                .hasMessageContaining("SASL");
        return zk;
    }

    private LoopbackProxy proxyTo(int port) {
        LoopbackProxy proxy = LoopbackProxy.to(port);
        opened.add(proxy);
        return proxy;
    }

    /** What a call threw, or what it returned, for the failure message. */
    private static String outcome(Throwable thrown, Object returned) {
        return thrown != null ? thrown.toString() : "returned " + returned;
    }

    // ------------------------------------------------------------ (1) no false NotAuthorizedException

    /**
     * A client refused by a SASL-requiring ensemble, which then restarts without the requirement
     * (here: a plain server on the same port) and serves the client through foreground recipe calls
     * (config stores), must be told ConnectionLoss on a later ordinary connection loss, as a client
     * that was never refused is. SaslRefusals forgets a refusal only on an OK answer to a
     * {@code Background.send} request, so a client served by foreground calls and Curator caches
     * stays "refused" for good.
     */
    @Test
    void aClientRefusedOnceAndThenServedIsNotToldNotAuthorizedOnAnOrdinaryConnectionLoss() throws Exception {
        ZkRecipes once = refusedClient(Duration.ofSeconds(10));
        await("the refusal heard").atMost(Duration.ofSeconds(15)).until(() -> SaslRefusals.refused(once.curator()));
        assertThatThrownBy(() -> ConfigStore.open(once, "swap", Duration.ofSeconds(3)))
                .as("refused by the SASL-only ensemble").isInstanceOf(NotAuthorizedException.class);
        assertThat(SaslRefusals.refused(once.curator())).as("the refusal was heard").isTrue();

        server.stop();
        TestingServer plain = new TestingServer(new InstanceSpec(null, server.port(), -1, -1, true, -1,
                ZkServers.TICK_MILLIS, -1, Map.of("clientPortAddress", "127.0.0.1"), "127.0.0.1"), true);
        try {
            // the ensemble serves the client now: config stores open, write and read
            await("the client is served by the ensemble without the requirement").atMost(WAIT).ignoreExceptions()
                    .until(() -> {
                        try (ConfigStore cfg = ConfigStore.open(once, "swap", Duration.ofSeconds(2))) {
                            cfg.put("k", "v");
                            return "v".equals(cfg.get("k", null));
                        }
                    });
            assertThat(ConfigStore.names(once)).contains("swap");
            ZkRecipes never = client(server.connectString(), null, Duration.ofSeconds(10));
            assertThat(ConfigStore.names(never)).contains("swap");

            // an ordinary outage, well within the session: connections are refused for a moment
            plain.stop();
            CompletableFuture<Throwable> neverRefused = CompletableFuture.supplyAsync(
                    () -> catchThrowable(() -> ConfigStore.names(never)));
            CompletableFuture<Throwable> onceRefused = CompletableFuture.supplyAsync(
                    () -> catchThrowable(() -> ConfigStore.names(once)));
            Throwable control = neverRefused.get(30, TimeUnit.SECONDS);
            Throwable verdict = onceRefused.get(30, TimeUnit.SECONDS);
            boolean stillRefused = SaslRefusals.refused(once.curator());
            plain.restart();

            SoftAssertions soft = new SoftAssertions();
            soft.assertThat(control).as("names() of a client never refused, server down")
                    .isInstanceOf(ConnectionLossException.class);
            soft.assertThat(verdict).as("names() of a client refused earlier but served since, server down;"
                    + " SaslRefusals.refused=%s", stillRefused)
                    .isInstanceOf(ConnectionLossException.class).isNotInstanceOf(NotAuthorizedException.class);
            soft.assertAll();
        } finally {
            // close the clients while a server still answers their close
            for (int i = opened.size() - 1; i >= 0; i--) {
                ZkServers.closeQuietly(opened.get(i));
            }
            opened.clear();
            ZkServers.closeQuietly(plain);
            server.start();
        }
    }

    /**
     * A logged-in client that only loses its connection is told so: ConnectionLoss from a
     * foreground call, an empty tryAcquire from a lock it cannot reach, never NotAuthorized.
     */
    @Test
    void aLoggedInClientThatLosesTheEnsembleIsToldConnectionLossNeverNotAuthorized() throws Exception {
        LoopbackProxy proxy = proxyTo(server.port());
        ZkRecipes alice = client(proxy.connectString(), SaslConfig.digest("alice", ALICE_PW), Duration.ofSeconds(20));
        try (LockHandle h = DistributedLock.of(alice, "review-served").tryAcquire(WAIT).orElseThrow()) {
            assertThat(h.isValid()).isTrue();
        }
        DistributedLock lock = DistributedLock.of(alice, "review-served");

        // the ensemble becomes unreachable: the connection is reset and new ones are refused
        proxy.close();
        AtomicReference<Object> got = new AtomicReference<>();
        Throwable lockVerdict = catchThrowable(() -> got.set(lock.tryAcquire(Duration.ofMillis(300))));
        Throwable namesVerdict = catchThrowable(() -> ConfigStore.names(alice));

        SoftAssertions soft = new SoftAssertions();
        soft.assertThat(lockVerdict).as("tryAcquire(300 ms), unreachable: %s", outcome(lockVerdict, got.get())).isNull();
        soft.assertThat(got.get()).as("tryAcquire(300 ms), unreachable").isEqualTo(Optional.empty());
        soft.assertThat(namesVerdict).as("names(), unreachable").isInstanceOf(ConnectionLossException.class);
        soft.assertThat(SaslRefusals.refused(alice.curator())).as("a logged-in client is not refused").isFalse();
        soft.assertAll();
    }

    // ------------------------------------------------------------ (2) a refused client is told so

    /**
     * A config write whose connection is gone while the login is failed: the write may have landed
     * before the drop, so its outcome stays unknown (ConnectionLossException), and the message says
     * the ensemble now refuses the client, instead of a bare "unreachable".
     */
    @Test
    void aConfigWriteOfAClientWhoseLoginFailedIsUnknownAndSaysTheClientIsRefused() throws Exception {
        LoopbackProxy proxy = proxyTo(server.port());
        ZkRecipes alice = client(proxy.connectString(), SaslConfig.digest("alice", ALICE_PW), Duration.ofSeconds(20));
        List<KeeperState> sasl = SaslEvents.saslStates(alice);
        ConfigStore cfg = ConfigStore.open(alice, "review-login-failed");
        opened.add(cfg);
        cfg.put("k", "v1");

        // another library replaces the JVM's JAAS configuration: the next reconnect cannot log in
        jaasBefore = Configuration.getConfiguration();
        Configuration.setConfiguration(SaslEvents.emptyJaas());
        proxy.cut();
        await("the reconnect's login fails").atMost(WAIT).until(() -> sasl.contains(KeeperState.AuthFailed));
        assertThat(SaslRefusals.refused(alice.curator())).as("the failed login is remembered").isTrue();

        long start = System.nanoTime();
        AtomicReference<Object> written = new AtomicReference<>();
        Throwable put = catchThrowable(() -> written.set(cfg.put("k", "v2")));
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        Throwable open = catchThrowable(() -> ConfigStore.open(alice, "review-login-failed", Duration.ofSeconds(2)).close());

        SoftAssertions soft = new SoftAssertions();
        soft.assertThat(open).as("ConfigStore.open after the failed login (the readFromEnsemble path)")
                .isInstanceOf(NotAuthorizedException.class);
        soft.assertThat(put).as("ConfigStore.put after the failed login: %s after %d ms", outcome(put, written.get()), ms)
                .isInstanceOf(ConnectionLossException.class).hasMessageContaining("refuses this client")
                .hasMessageContaining("SASL").hasMessageContaining("unknown");
        soft.assertAll();
    }

    /**
     * A client without a login on a SASL-only ensemble hears its refusal on connecting, before any
     * recipe call (the ensemble's answer is often lost with the connection it closes, so a recipe's
     * own short call may never hear it); from then on a short tryAcquire never says "not free".
     * Three fresh clients with the library's defaults, two calls each.
     */
    @Test
    void aClientWithoutLoginHearsItsRefusalOnConnectingAndNeverGetsAnEmptyTryAcquire() throws Exception {
        SoftAssertions soft = new SoftAssertions();
        for (int i = 0; i < 3; i++) {
            // the library's defaults (retry policy, timeouts): nothing here makes a refusal easier to lose
            ZkRecipes anonymous = ZkRecipes.builder().connectString(server.connectString()).build();
            opened.add(anonymous);
            anonymous.start();
            // awaitConnected waits for the answer to the question asked on connecting: the refusal
            assertThatThrownBy(() -> anonymous.awaitConnected(WAIT)).isInstanceOf(NotAuthorizedException.class)
                    .hasMessageContaining("SASL");
            assertThat(SaslRefusals.refused(anonymous.curator())).as("client %d heard its refusal", i).isTrue();
            DistributedLock lock = DistributedLock.of(anonymous, "review-fresh-" + i);
            for (int call = 0; call < 2; call++) {
                long start = System.nanoTime();
                AtomicReference<Object> got = new AtomicReference<>();
                Throwable thrown = catchThrowable(() -> got.set(lock.tryAcquire(Duration.ofMillis(200))));
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                soft.assertThat(thrown).as("client %d, call %d, tryAcquire(200 ms): %s after %d ms (refusal heard: %s)", i,
                        call, outcome(thrown, got.get()), ms, SaslRefusals.refused(anonymous.curator()))
                        .isInstanceOf(NotAuthorizedException.class);
                soft.assertThat(ms).as("client %d, call %d, tryAcquire(200 ms) within its bound plus I/O grace",
                        i, call).isLessThan(2000);
            }
            anonymous.close();
        }
        soft.assertAll();
    }

    /** Once a client heard its refusal, every short tryAcquire says so: never empty, within its bound. */
    @Test
    void aClientThatHeardItsRefusalGetsNotAuthorizedFromEveryShortTryAcquire() throws Exception {
        ZkRecipes anonymous = refusedClient(Duration.ofSeconds(10));
        await("the refusal heard").atMost(Duration.ofSeconds(15)).until(() -> SaslRefusals.refused(anonymous.curator()));
        assertThatThrownBy(() -> ConfigStore.open(anonymous, "review-heard", Duration.ofSeconds(3)))
                .isInstanceOf(NotAuthorizedException.class);
        DistributedLock lock = DistributedLock.of(anonymous, "review-heard");

        SoftAssertions soft = new SoftAssertions();
        for (int call = 0; call < 3; call++) {
            long start = System.nanoTime();
            AtomicReference<Object> got = new AtomicReference<>();
            Throwable thrown = catchThrowable(() -> got.set(lock.tryAcquire(Duration.ofMillis(200))));
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            soft.assertThat(thrown).as("call %d, tryAcquire(200 ms): %s after %d ms", call, outcome(thrown, got.get()), ms)
                    .isInstanceOf(NotAuthorizedException.class);
            soft.assertThat(ms).as("call %d within its bound plus I/O grace", call).isLessThan(2000);
        }
        soft.assertAll();
    }

    // ------------------------------------------------------------ (3) leaks

    /** A refused client, closed and dropped, is collected: the refusal memory does not keep it. */
    @Test
    void aRefusedClientClosedAndDroppedIsCollected() throws Exception {
        WeakReference<CuratorZookeeperClient> zkClient = refusedThenClosed();

        await("the refused client is collected").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                .until(() -> {
                    System.gc();
                    return zkClient.get() == null;
                });
    }

    private WeakReference<CuratorZookeeperClient> refusedThenClosed() throws Exception {
        ZkRecipes anonymous = refusedClient(Duration.ofSeconds(10));
        await("the refusal heard").atMost(Duration.ofSeconds(15)).until(() -> SaslRefusals.refused(anonymous.curator()));
        assertThatThrownBy(() -> ConfigStore.open(anonymous, "review-leak", Duration.ofSeconds(3)))
                .isInstanceOf(NotAuthorizedException.class);
        assertThat(SaslRefusals.refused(anonymous.curator())).isTrue();
        WeakReference<CuratorZookeeperClient> ref = new WeakReference<>(anonymous.curator().getZookeeperClient());
        anonymous.close();
        opened.remove(anonymous);
        return ref;
    }
}
