package dev.zkrecipes.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.server.auth.ProviderRegistry;
import org.apache.zookeeper.server.auth.X509AuthenticationProvider;
import org.apache.zookeeper.server.embedded.ZooKeeperServerEmbedded;

/**
 * An embedded ZooKeeper server that speaks TLS on its {@link #securePort()} (TLS only: plaintext
 * there is refused) and, for negative tests, plaintext on a separate {@link #plainPort()}; plus the
 * key material for it, generated at test time with the JDK's {@code keytool} (nothing is committed):
 * <pre>{@code
 * TlsZkServer.Certificates certs = TlsZkServer.generateCertificates(tempDir);
 * try (TlsZkServer server = TlsZkServer.start(certs, tempDir.resolve("zk"))) {
 *     ... server.secureConnectString() ...
 * }
 * }</pre>
 *
 * <p>The server asks for a client certificate but does not require one ({@code ssl.clientAuth=want}):
 * a client with a certificate signed by the test CA is authenticated as {@code x509}, one without
 * connects anonymously.
 *
 * <p>ZooKeeper's server reads its TLS settings from JVM system properties ({@code zookeeper.ssl.*},
 * read again for every new connection), so this class sets them while the server runs and restores
 * the previous values on {@link #close()}; the server connection factory property is restored as
 * soon as the server is up. At most one instance per JVM at a time.
 */
public final class TlsZkServer implements AutoCloseable {

    /** The password of every generated store. */
    public static final String PASSWORD = "test-only-pw";

    /**
     * Generated key material, all PKCS12 except where named.
     *
     * @param trustStore the test CA's certificate: what clients and the server trust
     * @param trustStorePem the same CA certificate as a PEM file
     * @param serverKeyStore the server's key and certificate, signed by the CA, for {@code 127.0.0.1} and {@code localhost}
     * @param clientKeyStore a client's key and certificate ({@code CN=zkr-test-client}), signed by the CA
     * @param foreignTrustStore another CA's certificate, which did not sign the server's certificate
     */
    public record Certificates(Path trustStore, Path trustStorePem, Path serverKeyStore, Path clientKeyStore, Path foreignTrustStore) {
    }

    private static final String[] SERVER_PROPERTIES = {
        "zookeeper.serverCnxnFactory", "zookeeper.ssl.keyStore.location", "zookeeper.ssl.keyStore.password",
        "zookeeper.ssl.keyStore.type", "zookeeper.ssl.trustStore.location", "zookeeper.ssl.trustStore.password",
        "zookeeper.ssl.trustStore.type", "zookeeper.ssl.clientAuth", "zookeeper.authProvider.x509",
        "zookeeper.ssl.hostnameVerification", "zookeeper.admin.enableServer",
    };

    private final ZooKeeperServerEmbedded server;
    private final int securePort;
    private final int plainPort;
    private final Map<String, String> previous;

    private TlsZkServer(ZooKeeperServerEmbedded server, int securePort, int plainPort, Map<String, String> previous) {
        this.server = server;
        this.securePort = securePort;
        this.plainPort = plainPort;
        this.previous = previous;
    }

    /**
     * Generates a CA, a server certificate for {@code 127.0.0.1} and {@code localhost}, a client
     * certificate and an unrelated CA into {@code dir}, with the JDK's {@code keytool}.
     */
    public static Certificates generateCertificates(Path dir) {
        try {
            Files.createDirectories(dir);
            Path ca = dir.resolve("ca-key.p12");
            Path caPem = dir.resolve("ca.pem");
            Path trust = dir.resolve("truststore.p12");
            keytool("-genkeypair", "-alias", "ca", "-dname", "CN=zkr-test-ca", "-ext", "bc:c", "-keystore", ca.toString());
            keytool("-exportcert", "-rfc", "-alias", "ca", "-keystore", ca.toString(), "-file", caPem.toString());
            keytool("-importcert", "-noprompt", "-alias", "ca", "-file", caPem.toString(), "-keystore", trust.toString());
            Path server = signed(dir, ca, caPem, "server", "CN=localhost", "san=ip:127.0.0.1,dns:localhost", "serverAuth,clientAuth");
            Path client = signed(dir, ca, caPem, "client", "CN=zkr-test-client", null, "clientAuth");

            Path foreign = dir.resolve("foreign-ca-key.p12");
            Path foreignPem = dir.resolve("foreign-ca.pem");
            Path foreignTrust = dir.resolve("foreign-truststore.p12");
            keytool("-genkeypair", "-alias", "ca", "-dname", "CN=zkr-foreign-ca", "-ext", "bc:c", "-keystore", foreign.toString());
            keytool("-exportcert", "-rfc", "-alias", "ca", "-keystore", foreign.toString(), "-file", foreignPem.toString());
            keytool("-importcert", "-noprompt", "-alias", "ca", "-file", foreignPem.toString(), "-keystore", foreignTrust.toString());
            return new Certificates(trust, caPem, server, client, foreignTrust);
        } catch (IOException e) {
            throw new UncheckedIOException("could not write test certificates to " + dir, e);
        }
    }

    /** A key pair for {@code name}, signed by the CA in {@code ca}, with the chain in {@code <name>.p12}. */
    private static Path signed(Path dir, Path ca, Path caPem, String name, String dname, String san, String eku) throws IOException {
        Path store = dir.resolve(name + ".p12");
        Path csr = dir.resolve(name + ".csr");
        Path cert = dir.resolve(name + ".pem");
        keytool("-genkeypair", "-alias", name, "-dname", dname, "-keystore", store.toString());
        keytool("-certreq", "-alias", name, "-keystore", store.toString(), "-file", csr.toString());
        List<String> gencert = new ArrayList<>(List.of("-gencert", "-rfc", "-alias", "ca", "-keystore", ca.toString(),
                "-infile", csr.toString(), "-outfile", cert.toString(), "-ext", "eku=" + eku));
        if (san != null) {
            gencert.addAll(List.of("-ext", san));
        }
        keytool(gencert.toArray(String[]::new));
        // the reply holds the whole chain, so keytool needs no CA entry in the store
        Files.writeString(cert, Files.readString(cert) + Files.readString(caPem));
        keytool("-importcert", "-noprompt", "-alias", name, "-file", cert.toString(), "-keystore", store.toString());
        return store;
    }

    private static void keytool(String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        if (List.of(args).contains("-genkeypair")) {
            command.addAll(List.of("-keyalg", "EC", "-groupname", "secp256r1", "-validity", "2"));
        }
        command.addAll(List.of("-storetype", "PKCS12", "-storepass", PASSWORD));
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IllegalStateException("keytool " + args[0] + " failed: " + output);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not run keytool", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running keytool", e);
        }
    }

    /**
     * Starts a server on loopback with TLS on one port and plaintext on another, its data under
     * {@code dataDir}, presenting {@link Certificates#serverKeyStore()} and trusting
     * {@link Certificates#trustStore()}.
     */
    public static TlsZkServer start(Certificates certs, Path dataDir) {
        Map<String, String> previous = new HashMap<>();
        for (String key : SERVER_PROPERTIES) {
            previous.put(key, System.getProperty(key));
        }
        int securePort = freePort();
        int plainPort = freePort();
        Properties config = new Properties();
        config.setProperty("tickTime", Integer.toString(ZkServers.TICK_MILLIS));
        config.setProperty("maxSessionTimeout", "60000");
        config.setProperty("clientPort", Integer.toString(plainPort));
        config.setProperty("clientPortAddress", "127.0.0.1");
        config.setProperty("secureClientPort", Integer.toString(securePort));
        config.setProperty("secureClientPortAddress", "127.0.0.1");
        config.setProperty("admin.enableServer", "false");
        // the keys below end up as zookeeper.* system properties: that is where the server reads them
        config.setProperty("serverCnxnFactory", "org.apache.zookeeper.server.NettyServerCnxnFactory");
        config.setProperty("ssl.keyStore.location", certs.serverKeyStore().toString());
        config.setProperty("ssl.keyStore.password", PASSWORD);
        config.setProperty("ssl.keyStore.type", "PKCS12");
        config.setProperty("ssl.trustStore.location", certs.trustStore().toString());
        config.setProperty("ssl.trustStore.password", PASSWORD);
        config.setProperty("ssl.trustStore.type", "PKCS12");
        config.setProperty("ssl.clientAuth", "want");
        config.setProperty("authProvider.x509", X509AuthenticationProvider.class.getName());
        ZooKeeperServerEmbedded server = null;
        try {
            Files.createDirectories(dataDir);
            server = ZooKeeperServerEmbedded.builder().baseDir(dataDir).configuration(config).build();
            // the registry reads providers once per JVM: make sure x509 is among them
            ProviderRegistry.addOrUpdateProvider("zookeeper.authProvider.x509");
            server.start(TimeUnit.SECONDS.toMillis(30));
            restore(previous, "zookeeper.serverCnxnFactory");
            return new TlsZkServer(server, securePort, plainPort, previous);
        } catch (Exception e) {
            ZkServers.closeQuietly(server);
            restore(previous, SERVER_PROPERTIES);
            throw new IllegalStateException("could not start an embedded TLS ZooKeeper server", e);
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void restore(Map<String, String> previous, String... keys) {
        for (String key : keys) {
            String value = previous.get(key);
            if (value == null) {
                System.clearProperty(key);
            } else {
                System.setProperty(key, value);
            }
        }
    }

    /** The TLS-only port. */
    public int securePort() {
        return securePort;
    }

    /** The plaintext port of the same server. */
    public int plainPort() {
        return plainPort;
    }

    /** {@code 127.0.0.1:<securePort>}. */
    public String secureConnectString() {
        return "127.0.0.1:" + securePort;
    }

    /** {@code 127.0.0.1:<plainPort>}. */
    public String plainConnectString() {
        return "127.0.0.1:" + plainPort;
    }

    /** Stops the server and restores the system properties it set. */
    @Override
    public void close() {
        try {
            server.close();
        } finally {
            restore(previous, SERVER_PROPERTIES);
        }
    }
}
