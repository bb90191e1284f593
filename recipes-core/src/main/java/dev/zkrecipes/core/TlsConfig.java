package dev.zkrecipes.core;

import static dev.zkrecipes.core.internal.Options.once;
import static java.util.Objects.requireNonNull;

import dev.zkrecipes.core.internal.TlsStores;
import java.nio.file.Path;
import java.util.Optional;

/**
 * TLS settings for the connection to ZooKeeper: whom to trust, optionally which client certificate
 * to present, and whether the server's certificate must match the host name the client dialled.
 *
 * <pre>{@code
 * ZkRecipes zk = ZkRecipes.builder()
 *         .connectString("zk1:2281")                       // the ensemble's secureClientPort
 *         .tls(TlsConfig.builder()
 *                 .trustStore(Path.of("truststore.p12"), "changeit")
 *                 .keyStore(Path.of("client.p12"), "changeit")   // optional: mutual TLS
 *                 .build())
 *         .build();
 * }</pre>
 *
 * <p>The store type follows the file name: {@code .p12}/{@code .pfx} PKCS12, {@code .jks} JKS,
 * {@code .pem}/{@code .crt} PEM (for a key store: the certificate chain and its private key in one
 * file). {@link Builder#build()} opens every store once, so a missing file, an unknown extension, a
 * wrong password or a store without the needed entries fails there, before anything is sent to
 * ZooKeeper.
 *
 * <p>Immutable and safe to share between clients. Passwords are never part of {@link #toString()},
 * of log lines or of exception messages.
 */
public final class TlsConfig {

    private final Path trustStore;
    private final String trustStoreType;
    private final char[] trustStorePassword;
    private final Path keyStore;
    private final String keyStoreType;
    private final char[] keyStorePassword;
    private final boolean hostnameVerification;

    private TlsConfig(Builder b) {
        this.trustStore = b.trustStore;
        this.trustStoreType = TlsStores.typeOf(b.trustStore, "trust store");
        this.trustStorePassword = b.trustStorePassword.clone();
        this.keyStore = b.keyStore;
        this.keyStoreType = b.keyStore == null ? null : TlsStores.typeOf(b.keyStore, "key store");
        this.keyStorePassword = b.keyStore == null ? null : b.keyStorePassword.clone();
        this.hostnameVerification = b.hostnameVerification == null || b.hostnameVerification;
    }

    /** A builder; {@link Builder#trustStore(Path, String)} is required. */
    public static Builder builder() {
        return new Builder();
    }

    /** The trust store: the certificates (usually one CA) a server's certificate must chain to. */
    public Path trustStore() {
        return trustStore;
    }

    /** {@code PKCS12}, {@code JKS} or {@code PEM}, from the trust store's file extension. */
    public String trustStoreType() {
        return trustStoreType;
    }

    /** The key store holding this client's certificate and private key, if mutual TLS is configured. */
    public Optional<Path> keyStore() {
        return Optional.ofNullable(keyStore);
    }

    /** {@code PKCS12}, {@code JKS} or {@code PEM}, from the key store's file extension, if there is one. */
    public Optional<String> keyStoreType() {
        return Optional.ofNullable(keyStoreType);
    }

    /**
     * Whether the server's certificate must name the host as written in the connect string (a DNS
     * name or an IP address in its subject alternative names). Default {@code true}.
     */
    public boolean hostnameVerification() {
        return hostnameVerification;
    }

    char[] trustStorePassword() {
        return trustStorePassword.clone();
    }

    char[] keyStorePassword() {
        return keyStorePassword == null ? null : keyStorePassword.clone();
    }

    /** Store locations, types and the hostname setting; never a password. */
    @Override
    public String toString() {
        return "TlsConfig[trustStore=" + trustStore + " (" + trustStoreType + ")"
                + ", keyStore=" + (keyStore == null ? "none" : keyStore + " (" + keyStoreType + ")")
                + ", hostnameVerification=" + hostnameVerification + "]";
    }

    /**
     * Options for a {@link TlsConfig}. Each option may be set once; a second call fails with
     * {@link IllegalStateException}.
     */
    public static final class Builder {
        private Path trustStore;
        private char[] trustStorePassword;
        private Path keyStore;
        private char[] keyStorePassword;
        private Boolean hostnameVerification;

        private Builder() {
        }

        /**
         * Required: the store of trusted certificates, and its password (PEM files without a
         * password take {@code ""}).
         */
        public Builder trustStore(Path path, String password) {
            requireNonNull(password, "trustStore password");
            return trustStore(path, password.toCharArray());
        }

        /** Like {@link #trustStore(Path, String)}, for a password held as characters; the array is copied. */
        public Builder trustStore(Path path, char[] password) {
            requireNonNull(path, "trustStore");
            requireNonNull(password, "trustStore password");
            once(this.trustStore, "trustStore");
            this.trustStore = path;
            this.trustStorePassword = password.clone();
            return this;
        }

        /**
         * Optional: this client's certificate chain and private key, for servers that ask for a
         * client certificate ({@code ssl.clientAuth=need} or {@code want}).
         */
        public Builder keyStore(Path path, String password) {
            requireNonNull(password, "keyStore password");
            return keyStore(path, password.toCharArray());
        }

        /** Like {@link #keyStore(Path, String)}, for a password held as characters; the array is copied. */
        public Builder keyStore(Path path, char[] password) {
            requireNonNull(path, "keyStore");
            requireNonNull(password, "keyStore password");
            once(this.keyStore, "keyStore");
            this.keyStore = path;
            this.keyStorePassword = password.clone();
            return this;
        }

        /**
         * Whether the server's certificate must match the host name or IP address in the connect
         * string. Default {@code true}; turn it off only for a test setup or when the certificates
         * cannot carry the names clients use.
         */
        public Builder hostnameVerification(boolean enabled) {
            once(this.hostnameVerification, "hostnameVerification");
            this.hostnameVerification = enabled;
            return this;
        }

        /**
         * Builds the settings after opening each store once.
         *
         * @throws IllegalStateException if no trust store was set
         * @throws IllegalArgumentException if a store's extension is unknown, its file is missing or
         *         unreadable, its password is wrong, the trust store holds no certificate or the key
         *         store no private key; the message names the file and what to fix
         */
        public TlsConfig build() {
            if (trustStore == null) {
                throw new IllegalStateException("trustStore is required, e.g. .trustStore(Path.of(\"truststore.p12\"), \"changeit\")");
            }
            TlsConfig config = new TlsConfig(this);
            TlsStores.checkTrustStore(config.trustStore, config.trustStoreType, config.trustStorePassword);
            if (config.keyStore != null) {
                TlsStores.checkKeyStore(config.keyStore, config.keyStoreType, config.keyStorePassword);
            }
            return config;
        }
    }
}
