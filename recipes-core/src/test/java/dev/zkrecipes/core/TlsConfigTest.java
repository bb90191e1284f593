package dev.zkrecipes.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.zkrecipes.core.internal.TlsStores;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.client.ZKClientConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** TlsConfig's checks at build(), its secrecy about passwords, and the client configuration it turns into. */
class TlsConfigTest {

    private static final String PW = "s3cret-pass";
    private static final String WRONG = "wr0ng-guess";

    @TempDir
    static Path dir;

    private static Path keyP12;
    private static Path trustP12;
    private static Path trustJks;
    private static Path certPem;

    @BeforeAll
    static void stores() throws Exception {
        keyP12 = dir.resolve("client.p12");
        certPem = dir.resolve("ca.pem");
        trustP12 = dir.resolve("truststore.p12");
        trustJks = dir.resolve("truststore.jks");
        keytool("-genkeypair", "-alias", "me", "-dname", "CN=me", "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "2",
                "-keystore", keyP12.toString(), "-storetype", "PKCS12");
        keytool("-exportcert", "-rfc", "-alias", "me", "-keystore", keyP12.toString(), "-storetype", "PKCS12", "-file", certPem.toString());
        keytool("-importcert", "-noprompt", "-alias", "ca", "-file", certPem.toString(), "-keystore", trustP12.toString(), "-storetype", "PKCS12");
        keytool("-importcert", "-noprompt", "-alias", "ca", "-file", certPem.toString(), "-keystore", trustJks.toString(), "-storetype", "JKS");
    }

    private static void keytool(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
        cmd.addAll(List.of(args));
        cmd.addAll(List.of("-storepass", PW));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0).as("keytool %s: %s", args[0], out).isTrue();
    }

    @Test
    void theStoreTypeFollowsTheExtension() throws IOException {
        Path crt = Files.copy(certPem, dir.resolve("ca.crt"));
        Path pfx = Files.copy(trustP12, dir.resolve("truststore.pfx"));
        assertThat(TlsConfig.builder().trustStore(trustP12, PW).build().trustStoreType()).isEqualTo("PKCS12");
        assertThat(TlsConfig.builder().trustStore(pfx, PW).build().trustStoreType()).isEqualTo("PKCS12");
        assertThat(TlsConfig.builder().trustStore(trustJks, PW).build().trustStoreType()).isEqualTo("JKS");
        assertThat(TlsConfig.builder().trustStore(certPem, "").build().trustStoreType()).isEqualTo("PEM");
        assertThat(TlsConfig.builder().trustStore(crt, "").build().trustStoreType()).isEqualTo("PEM");
        TlsConfig mutual = TlsConfig.builder().trustStore(trustP12, PW).keyStore(keyP12, PW).build();
        assertThat(mutual.keyStore()).contains(keyP12);
        assertThat(mutual.keyStoreType()).contains("PKCS12");
        assertThat(mutual.hostnameVerification()).as("the default").isTrue();
        assertThat(TlsConfig.builder().trustStore(trustP12, PW).build().keyStore()).isEmpty();
    }

    @Test
    void anUnknownExtensionIsRefusedWithTheKnownOnes() throws IOException {
        Path txt = Files.copy(trustP12, dir.resolve("truststore.txt"));
        assertThatThrownBy(() -> TlsConfig.builder().trustStore(txt, PW).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("truststore.txt").hasMessageContaining(".p12").hasMessageContaining(".jks").hasMessageContaining(".pem");
    }

    @Test
    void aMissingFileIsRefusedByName() {
        Path missing = dir.resolve("nowhere/truststore.p12");
        assertThatThrownBy(() -> TlsConfig.builder().trustStore(missing, PW).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nowhere/truststore.p12").hasMessageContaining("does not exist");
        assertThatThrownBy(() -> TlsConfig.builder().trustStore(trustP12, PW).keyStore(missing, PW).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("key store").hasMessageContaining("does not exist");
    }

    @Test
    void aWrongPasswordIsRefusedWithoutQuotingAnyPassword() {
        for (Path store : List.of(trustP12, trustJks)) {
            assertThatThrownBy(() -> TlsConfig.builder().trustStore(store, WRONG).build())
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(store.getFileName().toString()).hasMessageContaining("password is wrong")
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain(WRONG).doesNotContain(PW));
        }
        assertThatThrownBy(() -> TlsConfig.builder().trustStore(trustP12, PW).keyStore(keyP12, WRONG).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("client.p12").hasMessageContaining("password is wrong")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain(WRONG).doesNotContain(PW));
    }

    @Test
    void unusableStoresAreRefusedWithWhatToFix() throws IOException {
        Path garbage = Files.writeString(dir.resolve("garbage.p12"), "not a key store");
        assertThatThrownBy(() -> TlsConfig.builder().trustStore(garbage, PW).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("garbage.p12").hasMessageContaining("PKCS12");
        assertThatThrownBy(() -> TlsConfig.builder().trustStore(trustP12, PW).keyStore(trustP12, PW).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("holds no private key");
        assertThatThrownBy(() -> TlsConfig.builder().trustStore(keyP12, PW).build())
                .as("a key store holds no trusted certificate entry")
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("holds no trusted certificate");
    }

    @Test
    void toStringNamesTheStoresButNoPassword() {
        TlsConfig config = TlsConfig.builder().trustStore(trustP12, PW).keyStore(keyP12, PW.toCharArray()).hostnameVerification(false).build();
        assertThat(config.toString()).contains("truststore.p12").contains("client.p12").contains("PKCS12")
                .contains("hostnameVerification=false").doesNotContain(PW);
    }

    @Test
    void eachOptionIsSetOnceAndTheTrustStoreIsRequired() {
        assertThatThrownBy(() -> TlsConfig.builder().trustStore(trustP12, PW).trustStore(trustJks, PW))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("trustStore");
        assertThatThrownBy(() -> TlsConfig.builder().keyStore(keyP12, PW).keyStore(keyP12, PW))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("keyStore");
        assertThatThrownBy(() -> TlsConfig.builder().hostnameVerification(true).hostnameVerification(false))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("hostnameVerification");
        assertThatThrownBy(() -> TlsConfig.builder().keyStore(keyP12, PW).build())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("trustStore is required");
        TlsConfig config = TlsConfig.builder().trustStore(trustP12, PW).build();
        assertThatThrownBy(() -> ZkRecipes.builder().tls(config).tls(config))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("tls");
    }

    @Test
    void theClientConfigurationIsPerClientAndIgnoresJvmWideTlsProperties() {
        String leaked = "zookeeper.ssl.keyStore.location";
        System.setProperty(leaked, "/elsewhere/server.p12");
        try {
            ZKClientConfig c = TlsStores.clientConfig(trustP12, "PKCS12", PW.toCharArray(), null, null, null, false);
            assertThat(c.getBoolean(ZKClientConfig.SECURE_CLIENT)).isTrue();
            assertThat(c.getProperty(ZKClientConfig.ZOOKEEPER_CLIENT_CNXN_SOCKET)).isEqualTo("org.apache.zookeeper.ClientCnxnSocketNetty");
            assertThat(c.getProperty("zookeeper.ssl.trustStore.location")).isEqualTo(trustP12.toString());
            assertThat(c.getProperty("zookeeper.ssl.trustStore.type")).isEqualTo("PKCS12");
            assertThat(c.getProperty("zookeeper.ssl.hostnameVerification")).isEqualTo("false");
            assertThat(c.getProperty(leaked)).as("no key store configured: none taken from the JVM").isEmpty();
            assertThat(System.getProperty("zookeeper.client.secure")).as("nothing set JVM-wide").isNull();
        } finally {
            System.clearProperty(leaked);
        }
    }

    @Test
    void aServerThatIsDownIsNotATlsMatterAwaitConnectedReturnsFalse() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        TlsConfig tls = TlsConfig.builder().trustStore(trustP12, PW).build();
        for (TlsConfig config : new TlsConfig[] {tls, null}) {
            ZkRecipes.Builder b = ZkRecipes.builder().connectString("127.0.0.1:" + closedPort).connectionTimeout(Duration.ofSeconds(1));
            if (config != null) {
                b.tls(config);
            }
            try (ZkRecipes zk = b.build()) {
                zk.start();
                long started = System.nanoTime();
                assertThat(zk.awaitConnected(Duration.ofMillis(1500))).isFalse();
                assertThat(Duration.ofNanos(System.nanoTime() - started)).isBetween(Duration.ofMillis(1400), Duration.ofSeconds(5));
            }
        }
    }
}
