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
import dev.zkrecipes.election.LeaderElector;
import dev.zkrecipes.lock.DistributedLock;
import dev.zkrecipes.lock.LockHandle;
import dev.zkrecipes.queue.ConsumeOptions;
import dev.zkrecipes.queue.Serializers;
import dev.zkrecipes.queue.Task;
import dev.zkrecipes.queue.TaskQueue;
import dev.zkrecipes.testing.SaslZkServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.security.auth.login.AppConfigurationEntry;
import javax.security.auth.login.Configuration;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SASL (DIGEST-MD5) against a server that requires it ({@link SaslZkServer}, a separate JVM: the
 * server's JAAS configuration and auth providers are JVM-wide). Each client of this JVM logs in as
 * its own user; the recipes work, their nodes belong to {@code sasl:<user>} alone, and a wrong or
 * missing login fails typed and at once, never as a connection that does not come or an empty view.
 */
class SaslIT {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String ALICE_PW = "alice-secret-pw";

    @TempDir
    static Path dir;

    private static SaslZkServer server;
    private final List<AutoCloseable> opened = new ArrayList<>();

    @BeforeAll
    static void startServer() {
        server = SaslZkServer.start(dir, Map.of("alice", ALICE_PW, "bob", "bob-secret-pw"));
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    @AfterEach
    void closeAll() {
        for (int i = opened.size() - 1; i >= 0; i--) {
            try {
                opened.get(i).close();
            } catch (Exception ignored) {
                // best effort
            }
        }
        opened.clear();
    }

    private ZkRecipes built(SaslConfig sasl) {
        ZkRecipes.Builder b = ZkRecipes.builder().connectString(server.connectString()).connectionTimeout(Duration.ofSeconds(5));
        if (sasl != null) {
            b.sasl(sasl);
        }
        ZkRecipes zk = b.build();
        opened.add(zk);
        zk.start();
        return zk;
    }

    /** A client without a login, which awaitConnected reports refused by the SASL-only ensemble. */
    private ZkRecipes refused() {
        ZkRecipes zk = built(null);
        assertThatThrownBy(() -> zk.awaitConnected(WAIT)).isInstanceOf(NotAuthorizedException.class)
                .hasMessageContaining("SASL").hasMessageContaining("sasl(");
        return zk;
    }

    private ZkRecipes connected(SaslConfig sasl) throws InterruptedException {
        ZkRecipes zk = built(sasl);
        assertThat(zk.awaitConnected(WAIT)).isTrue();
        return zk;
    }

    @Test
    void aSaslUserRunsTheRecipesAndItsNodesAreItsAlone() throws Exception {
        ZkRecipes alice = connected(SaslConfig.digest("alice", ALICE_PW));

        try (LockHandle held = DistributedLock.of(alice, "sasl-lock").tryAcquire(WAIT).orElseThrow()) {
            assertThat(held.isValid()).isTrue();
        }
        try (LeaderElector elector = LeaderElector.builder(alice, "sasl-election").participantId("alice").build()) {
            elector.start();
            assertThat(elector.awaitLeadership(WAIT)).isPresent();
        }
        TaskQueue<String> queue = TaskQueue.builder(alice, "sasl-queue", Serializers.utf8()).build();
        queue.put("job");
        Task<String> task = queue.poll(WAIT).orElseThrow();
        assertThat(task.payload()).isEqualTo("job");
        task.ack();
        try (ConfigStore cfg = ConfigStore.open(alice, "sasl-config")) {
            cfg.put("workers", "8");
            assertThat(cfg.getInt("workers", 4)).isEqualTo(8);
        }

        List<ACL> lockAcl = alice.curator().getACL().forPath("/zkr/locks/sasl-lock");
        assertThat(lockAcl).containsExactly(new ACL(ZooDefs.Perms.ALL, new Id("sasl", "alice")));
        List<ACL> sharedParent = alice.curator().getACL().forPath("/zkr/locks");
        assertThat(sharedParent).containsExactly(
                new ACL(ZooDefs.Perms.READ | ZooDefs.Perms.CREATE, ZooDefs.Ids.ANYONE_ID_UNSAFE));
    }

    @Test
    void anotherSaslUserOfTheSameJvmIsRefusedAlicesRecipes() throws Exception {
        ZkRecipes alice = connected(SaslConfig.digest("alice", ALICE_PW));
        ZkRecipes bob = connected(SaslConfig.digest("bob", "bob-secret-pw"));
        LockHandle held = DistributedLock.of(alice, "alice-only").tryAcquire(WAIT).orElseThrow();
        opened.add(held);
        try (ConfigStore cfg = ConfigStore.open(alice, "alice-config")) {
            cfg.put("k", "v");
        }

        assertThatThrownBy(() -> DistributedLock.of(bob, "alice-only").tryAcquire(WAIT))
                .isInstanceOf(NotAuthorizedException.class);
        assertThatThrownBy(() -> ConfigStore.open(bob, "alice-config")).isInstanceOf(NotAuthorizedException.class);
        assertThat(held.isValid()).isTrue();
        // and bob's own recipes work next to alice's, under the same shared parents
        try (LockHandle bobs = DistributedLock.of(bob, "bob-only").tryAcquire(WAIT).orElseThrow()) {
            assertThat(bobs.isValid()).isTrue();
        }
    }

    @Test
    void aWrongPasswordFailsTypedWithinTheConnectionTimeoutAndIsNeverPrinted() {
        ZkRecipes wrong = built(SaslConfig.digest("alice", "not-the-password"));
        long start = System.nanoTime();

        Throwable refused = catchThrowable(() -> wrong.awaitConnected(Duration.ofSeconds(30)));

        assertThat(refused).isInstanceOf(NotAuthorizedException.class).hasMessageContaining("SASL")
                .hasMessageContaining("alice").hasMessageNotContaining("not-the-password");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        assertThat(SaslConfig.digest("alice", "not-the-password").toString()).doesNotContain("not-the-password");
    }

    @Test
    void anUnknownUserFailsTyped() {
        ZkRecipes mallory = built(SaslConfig.digest("mallory", "guess"));

        assertThatThrownBy(() -> mallory.awaitConnected(Duration.ofSeconds(30))).isInstanceOf(NotAuthorizedException.class);
    }

    @Test
    void aClientWithoutSaslIsNotAuthorizedNeverShownAnEmptyStore() throws Exception {
        ZkRecipes alice = connected(SaslConfig.digest("alice", ALICE_PW));
        try (ConfigStore cfg = ConfigStore.open(alice, "seen-by-nobody-else")) {
            cfg.put("k", "v");
        }
        // the server grants a session, then refuses its every request: awaitConnected says so
        ZkRecipes anonymous = refused();

        assertThatThrownBy(() -> ConfigStore.open(anonymous, "seen-by-nobody-else"))
                .isInstanceOf(NotAuthorizedException.class).hasMessageContaining("SASL");
        assertThatThrownBy(() -> DistributedLock.of(anonymous, "any-lock").tryAcquire(WAIT))
                .isInstanceOf(NotAuthorizedException.class);
    }

    @Test
    void aQueueIsRefusedTypedEvenWhenTheRefusalIsLostWithTheConnection() throws Exception {
        // the ensemble answers "requires SASL" and closes the connection at once, so the answer is
        // often lost: a bounded poll then runs out of time, and must still say why
        ZkRecipes anonymous = built(null);
        TaskQueue<String> queue = TaskQueue.builder(anonymous, "refused-queue", Serializers.utf8()).build();

        Throwable first = catchThrowable(() -> queue.poll(Duration.ofMillis(500)));
        assertThat(first).as("a fresh client's first poll: refused or unanswered, never 'no task'")
                .isInstanceOfAny(NotAuthorizedException.class, ConnectionLossException.class);
        assertThatThrownBy(queue::size).isInstanceOf(NotAuthorizedException.class).hasMessageContaining("SASL");
        for (int i = 0; i < 3; i++) {
            assertThatThrownBy(() -> queue.poll(Duration.ofMillis(500)))
                    .isInstanceOf(NotAuthorizedException.class).hasMessageContaining("SASL");
        }
        assertThatThrownBy(() -> queue.consume(task -> { }, ConsumeOptions.defaults()))
                .isInstanceOf(NotAuthorizedException.class);
        assertThatThrownBy(() -> queue.put("job")).isInstanceOf(NotAuthorizedException.class);
    }

    @Test
    void aJaasSectionOfTheJvmLogsInAndAMissingOneFailsAtBuild() throws Exception {
        Configuration before = Configuration.getConfiguration();
        Configuration.setConfiguration(new Configuration() {
            @Override
            public AppConfigurationEntry[] getAppConfigurationEntry(String name) {
                if (name.equals("ZkrItClient")) {
                    return new AppConfigurationEntry[] {new AppConfigurationEntry(
                            "org.apache.zookeeper.server.auth.DigestLoginModule",
                            AppConfigurationEntry.LoginModuleControlFlag.REQUIRED,
                            Map.of("username", "alice", "password", ALICE_PW))};
                }
                return before.getAppConfigurationEntry(name);
            }
        });
        try {
            ZkRecipes alice = connected(SaslConfig.jaasSection("ZkrItClient"));
            try (LockHandle held = DistributedLock.of(alice, "jaas-lock").tryAcquire(WAIT).orElseThrow()) {
                assertThat(alice.curator().getACL().forPath("/zkr/locks/jaas-lock"))
                        .containsExactly(new ACL(ZooDefs.Perms.ALL, new Id("sasl", "alice")));
            }

            assertThatThrownBy(() -> ZkRecipes.builder().connectString(server.connectString())
                    .sasl(SaslConfig.jaasSection("NoSuchSection")).build())
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("NoSuchSection");
        } finally {
            Configuration.setConfiguration(before);
        }
        // a client built in code still logs in after the JVM's configuration changed under it
        ZkRecipes again = connected(SaslConfig.digest("alice", ALICE_PW));
        await().atMost(WAIT).until(() -> again.curator().checkExists().forPath("/zkr") != null);
    }
}
