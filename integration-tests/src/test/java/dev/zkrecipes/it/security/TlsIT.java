package dev.zkrecipes.it.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import dev.zkrecipes.config.ConfigStore;
import dev.zkrecipes.core.TlsConfig;
import dev.zkrecipes.core.TlsHandshakeException;
import dev.zkrecipes.core.TlsHandshakeException.Reason;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.election.LeaderElector;
import dev.zkrecipes.election.Leadership;
import dev.zkrecipes.lock.DistributedLock;
import dev.zkrecipes.lock.LockHandle;
import dev.zkrecipes.testing.TlsZkServer;
import dev.zkrecipes.testing.ZkServers;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.data.ClientInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS between client and ensemble, on one embedded server that speaks TLS on one port and
 * plaintext on another: recipes work over TLS, two clients with different TLS settings share the
 * JVM, and every handshake that cannot complete ends in a typed {@link TlsHandshakeException}
 * within the connection timeout instead of silent reconnects.
 */
class TlsIT {

    private static final Duration WAIT = Duration.ofSeconds(15);
    /** The connection timeout of the failing clients: the bound on how long a typed error may take. */
    private static final Duration CONNECTION_TIMEOUT = Duration.ofSeconds(3);

    @TempDir
    static Path dir;

    private static TlsZkServer.Certificates certs;
    private static TlsZkServer server;

    private final List<AutoCloseable> toClose = new ArrayList<>();

    @BeforeAll
    static void startServer() {
        certs = TlsZkServer.generateCertificates(dir.resolve("certs"));
        server = TlsZkServer.start(certs, dir.resolve("zk"));
    }

    @AfterAll
    static void stopServer() {
        ZkServers.closeQuietly(server);
    }

    @AfterEach
    void closeAll() {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            ZkServers.closeQuietly(toClose.get(i));
        }
    }

    private static TlsConfig.Builder trusting(Path trustStore) {
        return TlsConfig.builder().trustStore(trustStore, TlsZkServer.PASSWORD);
    }

    private ZkRecipes client(String connectString, TlsConfig tls) {
        ZkRecipes.Builder b = ZkRecipes.builder()
                .connectString(connectString)
                .connectionTimeout(CONNECTION_TIMEOUT)
                .sessionTimeout(Duration.ofSeconds(10))
                .retryPolicy(new RetryNTimes(5, 100));
        if (tls != null) {
            b.tls(tls);
        }
        ZkRecipes zk = b.build();
        toClose.add(zk);
        zk.start();
        return zk;
    }

    private ZkRecipes connected(String connectString, TlsConfig tls) throws InterruptedException {
        ZkRecipes zk = client(connectString, tls);
        assertThat(zk.awaitConnected(WAIT)).as("connected to %s", connectString).isTrue();
        return zk;
    }

    private static List<String> identities(ZkRecipes zk) throws Exception {
        List<String> ids = new ArrayList<>();
        for (ClientInfo info : zk.curator().getZookeeperClient().getZooKeeper().whoAmI()) {
            ids.add(info.getAuthScheme() + ":" + info.getUser());
        }
        return ids;
    }

    /** Asserts the client fails with the typed error, naming the server and the cause, within the connection timeout. */
    private static TlsHandshakeException awaitTypedFailure(ZkRecipes zk, String server, Reason reason, String cause) {
        long started = System.nanoTime();
        TlsHandshakeException e = catchThrowableOfType(TlsHandshakeException.class, () -> zk.awaitConnected(WAIT));
        Duration elapsed = Duration.ofNanos(System.nanoTime() - started);
        assertThat(e).as("awaitConnected must throw TlsHandshakeException").isNotNull();
        assertThat(e.reason()).isEqualTo(reason);
        assertThat(e.server()).isEqualTo(server);
        assertThat(e.getMessage()).contains("TLS handshake with " + server + " failed").contains(cause)
                .doesNotContain(TlsZkServer.PASSWORD).doesNotContainIgnoringCase("no ZooKeeper server reachable");
        assertThat(elapsed).as("time to the typed error").isLessThan(CONNECTION_TIMEOUT);
        assertThat(zk.curator().getZookeeperClient().isConnected()).isFalse();
        return e;
    }

    @Test
    void lockElectionAndConfigWorkOverTlsForTwoClientsWithDifferentTlsSettings() throws Exception {
        // mutual TLS, PKCS12 stores, hostname verified against 127.0.0.1
        ZkRecipes mutual = connected(server.secureConnectString(), trusting(certs.trustStore())
                .keyStore(certs.clientKeyStore(), TlsZkServer.PASSWORD).build());
        // server authentication only, trust from a PEM file, verification off: a different configuration in the same JVM
        ZkRecipes anonymous = connected(server.secureConnectString(), TlsConfig.builder()
                .trustStore(certs.trustStorePem(), "").hostnameVerification(false).build());

        assertThat(identities(mutual)).as("the server saw the client certificate").contains("x509:CN=zkr-test-client");
        assertThat(identities(anonymous)).noneMatch(id -> id.startsWith("x509:"));

        // lock: held by one client, refused to the other until released
        DistributedLock lockA = DistributedLock.of(mutual, "tls/orders");
        DistributedLock lockB = DistributedLock.of(anonymous, "tls/orders");
        try (LockHandle held = lockA.acquire()) {
            assertThat(held.isValid()).isTrue();
            Optional<LockHandle> refused = CompletableFuture.supplyAsync(() -> tryAcquire(lockB, Duration.ofMillis(300))).get(10, TimeUnit.SECONDS);
            assertThat(refused).isEmpty();
        }
        boolean acquiredAfterRelease = CompletableFuture.supplyAsync(() -> {
            Optional<LockHandle> h = tryAcquire(lockB, WAIT);
            h.ifPresent(LockHandle::close); // released by the thread that acquired it
            return h.isPresent();
        }).get(20, TimeUnit.SECONDS);
        assertThat(acquiredAfterRelease).isTrue();

        // election: one leader, seen by the other participant
        LeaderElector a = LeaderElector.builder(mutual, "tls/scheduler").participantId("a").build();
        toClose.add(a);
        a.start();
        Optional<Leadership> term = a.awaitLeadership(WAIT);
        assertThat(term).isPresent();
        LeaderElector b = LeaderElector.builder(anonymous, "tls/scheduler").participantId("b").build();
        toClose.add(b);
        b.start();
        await().atMost(WAIT).until(() -> b.participants().size() == 2);
        assertThat(b.currentLeader()).map(p -> p.id()).contains("a");
        assertThat(b.isLeader()).isFalse();

        // config: a write on one client reaches the other's live copy
        ConfigStore writer = ConfigStore.open(mutual, "tls/billing");
        toClose.add(writer);
        ConfigStore reader = ConfigStore.open(anonymous, "tls/billing");
        toClose.add(reader);
        writer.put("timeout", "30s");
        await().atMost(WAIT).until(() -> reader.get("timeout").equals(Optional.of("30s")));
    }

    private static Optional<LockHandle> tryAcquire(DistributedLock lock, Duration timeout) {
        try {
            return lock.tryAcquire(timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Test
    void anUntrustedServerCertificateFailsTypedWithinTheConnectionTimeout() {
        ZkRecipes zk = client(server.secureConnectString(), trusting(certs.foreignTrustStore()).build());
        awaitTypedFailure(zk, server.secureConnectString(), Reason.UNTRUSTED_CERTIFICATE, "certificate not trusted");
    }

    @Test
    void aTlsClientOnThePlaintextPortFailsTypedWithinTheConnectionTimeout() {
        ZkRecipes zk = client(server.plainConnectString(), trusting(certs.trustStore()).build());
        awaitTypedFailure(zk, server.plainConnectString(), Reason.SERVER_NOT_TLS, "does not speak TLS");
    }

    @Test
    void aPlaintextClientOnTheTlsPortFailsTypedWithinTheConnectionTimeout() {
        ZkRecipes zk = client(server.secureConnectString(), null);
        awaitTypedFailure(zk, server.secureConnectString(), Reason.CLIENT_NOT_TLS, "expects TLS");
    }

    @Test
    void aPlaintextClientOnThePlaintextPortStillConnects() throws Exception {
        ZkRecipes zk = connected(server.plainConnectString(), null);
        assertThat(zk.curator().checkExists().forPath("/")).isNotNull();
    }

    @Test
    void aCertificateWithoutTheDialledNameFailsTypedWhenVerificationIsOn() throws Exception {
        try (Forwarder other = Forwarder.on("127.0.0.2", server.securePort())) {
            String dialled = "127.0.0.2:" + other.port();
            ZkRecipes zk = client(dialled, trusting(certs.trustStore()).build());
            TlsHandshakeException e = awaitTypedFailure(zk, dialled, Reason.HOSTNAME_MISMATCH, "hostname mismatch");
            assertThat(e.getMessage()).contains("'127.0.0.2'");
        }
    }

    @Test
    void theSameCertificateIsAcceptedWhenVerificationIsOff() throws Exception {
        try (Forwarder other = Forwarder.on("127.0.0.2", server.securePort())) {
            ZkRecipes zk = connected("127.0.0.2:" + other.port(), trusting(certs.trustStore()).hostnameVerification(false).build());
            assertThat(zk.curator().checkExists().forPath("/")).isNotNull();
        }
    }

    /** Another loopback address in front of the TLS port: the same server, dialled by a name its certificate lacks. */
    @Test
    void theClientCertificateIsTheAclIdentity() throws Exception {
        // creator-only recipe nodes for whoever this client is: here its certificate (x509 scheme)
        org.apache.curator.framework.api.ACLProvider creatorOnly = new org.apache.curator.framework.imps.DefaultACLProvider() {
            @Override
            public List<org.apache.zookeeper.data.ACL> getDefaultAcl() {
                return org.apache.zookeeper.ZooDefs.Ids.CREATOR_ALL_ACL;
            }

            @Override
            public List<org.apache.zookeeper.data.ACL> getAclForPath(String path) {
                return org.apache.zookeeper.ZooDefs.Ids.CREATOR_ALL_ACL;
            }
        };
        ZkRecipes owner = ZkRecipes.builder().connectString(server.secureConnectString()).connectionTimeout(CONNECTION_TIMEOUT)
                .tls(trusting(certs.trustStore()).keyStore(certs.clientKeyStore(), TlsZkServer.PASSWORD).build())
                .aclProvider(creatorOnly).build();
        toClose.add(owner);
        owner.start();
        assertThat(owner.awaitConnected(WAIT)).isTrue();
        ZkRecipes sameCertificate = connected(server.secureConnectString(), TlsConfig.builder()
                .trustStore(certs.trustStorePem(), "").keyStore(certs.clientKeyStore(), TlsZkServer.PASSWORD).build());
        ZkRecipes noCertificate = connected(server.secureConnectString(), trusting(certs.trustStore()).build());

        DistributedLock.of(owner, "tls/x509-owned").acquire().close();
        assertThat(owner.curator().getACL().forPath("/zkr/locks/tls/x509-owned"))
                .extracting(acl -> acl.getId().getScheme() + ":" + acl.getId().getId()).containsExactly("x509:CN=zkr-test-client");
        // the shared parents stay open to every identity
        assertThat(owner.curator().getACL().forPath("/zkr/locks"))
                .anyMatch(acl -> acl.getId().getScheme().equals("world"));

        // the same certificate may take the lock; a client without one is refused, typed
        boolean taken = CompletableFuture.supplyAsync(() -> {
            Optional<LockHandle> h = tryAcquire(DistributedLock.of(sameCertificate, "tls/x509-owned"), WAIT);
            h.ifPresent(LockHandle::close);
            return h.isPresent();
        }).get(20, TimeUnit.SECONDS);
        assertThat(taken).isTrue();
        assertThatThrownBy(() -> DistributedLock.of(noCertificate, "tls/x509-owned").tryAcquire(Duration.ofSeconds(2)))
                .isInstanceOf(dev.zkrecipes.core.NotAuthorizedException.class);
    }

    private static final class Forwarder implements AutoCloseable {
        private final ServerSocket listener;
        private final int target;
        private final List<Socket> sockets = new ArrayList<>();

        private Forwarder(ServerSocket listener, int target) {
            this.listener = listener;
            this.target = target;
            Thread t = new Thread(this::acceptLoop, "tls-it-forwarder");
            t.setDaemon(true);
            t.start();
        }

        static Forwarder on(String address, int target) throws IOException {
            ServerSocket s = new ServerSocket();
            s.bind(new InetSocketAddress(InetAddress.getByName(address), 0));
            return new Forwarder(s, target);
        }

        int port() {
            return listener.getLocalPort();
        }

        private void acceptLoop() {
            while (!listener.isClosed()) {
                try {
                    Socket in = listener.accept();
                    Socket out = new Socket("127.0.0.1", target);
                    synchronized (sockets) {
                        sockets.add(in);
                        sockets.add(out);
                    }
                    pump(in, out);
                    pump(out, in);
                } catch (IOException e) {
                    return;
                }
            }
        }

        private static void pump(Socket from, Socket to) {
            Thread t = new Thread(() -> {
                try (InputStream is = from.getInputStream(); OutputStream os = to.getOutputStream()) {
                    is.transferTo(os);
                } catch (IOException ignored) {
                    // one side closed
                } finally {
                    ZkServers.closeQuietly(from);
                    ZkServers.closeQuietly(to);
                }
            }, "tls-it-pump");
            t.setDaemon(true);
            t.start();
        }

        @Override
        public void close() throws IOException {
            listener.close();
            synchronized (sockets) {
                sockets.forEach(ZkServers::closeQuietly);
            }
        }
    }
}
