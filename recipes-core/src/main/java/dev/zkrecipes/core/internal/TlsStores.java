package dev.zkrecipes.core.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.UnrecoverableKeyException;
import java.util.Collections;
import java.util.Locale;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import org.apache.zookeeper.ClientCnxnSocketNetty;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.common.ClientX509Util;
import org.apache.zookeeper.common.X509Util;

/**
 * Opening trust and key stores the way ZooKeeper's client does (its own loaders, so PEM works the
 * same), and turning TLS settings into a per-client {@link ZKClientConfig}. Error messages name the
 * file and what to fix, never a password.
 */
public final class TlsStores {

    private TlsStores() {
    }

    /** The store type ZooKeeper expects ({@code PKCS12}, {@code JKS}, {@code PEM}) from the file name. */
    public static String typeOf(Path path, String what) {
        String name = String.valueOf(path.getFileName()).toLowerCase(Locale.ROOT);
        if (name.endsWith(".p12") || name.endsWith(".pfx")) {
            return "PKCS12";
        }
        if (name.endsWith(".jks")) {
            return "JKS";
        }
        if (name.endsWith(".pem") || name.endsWith(".crt")) {
            return "PEM";
        }
        throw new IllegalArgumentException(what + " " + path + " has an unknown extension: name the file"
                + " .p12 or .pfx (PKCS12), .jks (JKS), or .pem or .crt (PEM)");
    }

    /** Opens a trust store and checks it holds at least one trusted certificate. */
    public static void checkTrustStore(Path path, String type, char[] password) {
        checkFile(path, "trust store");
        try {
            X509Util.createTrustManager(path.toString(), new String(password), type, false, false, true, false, false, true);
        } catch (Exception e) {
            throw unreadable("trust store", path, type, password, e);
        }
    }

    /** Opens a key store and checks it holds a private key with its certificate chain. */
    public static void checkKeyStore(Path path, String type, char[] password) {
        checkFile(path, "key store");
        String pw = new String(password);
        KeyStore ks;
        try {
            ks = X509Util.loadKeyStore(path.toString(), pw, type);
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            throw unreadable("key store", path, type, password, e);
        }
        boolean hasKey = false;
        try {
            for (String alias : Collections.list(ks.aliases())) {
                hasKey |= ks.isKeyEntry(alias);
            }
        } catch (GeneralSecurityException e) {
            throw unreadable("key store", path, type, password, e);
        }
        if (!hasKey) {
            throw new IllegalArgumentException("key store " + path + " (" + type + ") holds no private key: it must hold"
                    + " this client's certificate chain and private key (a trust store goes to trustStore(...))");
        }
        try {
            X509Util.createKeyManager(path.toString(), pw, type);
        } catch (Exception e) {
            throw unreadable("key store", path, type, password, e);
        }
    }

    /**
     * A client configuration of its own for one ZooKeeper handle: TLS over Netty with these stores.
     * Every store, password and verification key is set here, so JVM-wide {@code zookeeper.ssl.*}
     * system properties (for example a server's, in the same JVM) never leak in; only
     * {@code zookeeper.ssl.sslProvider} (JDK by default, or OPENSSL) is taken from the JVM.
     */
    public static ZKClientConfig clientConfig(Path trustStore, String trustType, char[] trustPassword,
                                              Path keyStore, String keyType, char[] keyPassword, boolean hostnameVerification) {
        ZKClientConfig config = new ZKClientConfig();
        config.setProperty(ZKClientConfig.SECURE_CLIENT, "true");
        config.setProperty(ZKClientConfig.ZOOKEEPER_CLIENT_CNXN_SOCKET, ClientCnxnSocketNetty.class.getName());
        // standard PKIX trust and HTTPS-style host name checks: what HandshakeProbe does too
        config.setProperty(X509Util.FIPS_MODE_PROPERTY, "true");
        try (ClientX509Util keys = new ClientX509Util()) {
            config.setProperty(keys.getSslTruststoreLocationProperty(), trustStore.toString());
            config.setProperty(keys.getSslTruststorePasswdProperty(), new String(trustPassword));
            config.setProperty(keys.getSslTruststorePasswdPathProperty(), "");
            config.setProperty(keys.getSslTruststoreTypeProperty(), trustType);
            config.setProperty(keys.getSslKeystoreLocationProperty(), keyStore == null ? "" : keyStore.toString());
            config.setProperty(keys.getSslKeystorePasswdProperty(), keyPassword == null ? "" : new String(keyPassword));
            config.setProperty(keys.getSslKeystorePasswdPathProperty(), "");
            config.setProperty(keys.getSslKeystoreTypeProperty(), keyType == null ? "PKCS12" : keyType);
            config.setProperty(keys.getSslHostnameVerificationEnabledProperty(), Boolean.toString(hostnameVerification));
            config.setProperty(keys.getSslCrlEnabledProperty(), "false");
            config.setProperty(keys.getSslOcspEnabledProperty(), "false");
            // the one JVM-wide choice honoured: OPENSSL needs netty-tcnative on the class path (README: TLS)
            String provider = System.getProperty(keys.getSslProviderProperty());
            if (provider != null && !provider.isBlank()) {
                config.setProperty(keys.getSslProviderProperty(), provider);
            }
        }
        return config;
    }

    /** A JDK SSL context with the same trust and key material as {@link #clientConfig}, for probes. */
    public static SSLContext sslContext(Path trustStore, String trustType, char[] trustPassword,
                                        Path keyStore, String keyType, char[] keyPassword) {
        try {
            TrustManager tm = X509Util.createTrustManager(trustStore.toString(), new String(trustPassword), trustType,
                    false, false, true, false, false, true);
            KeyManager[] kms = keyStore == null ? null
                    : new KeyManager[] {X509Util.createKeyManager(keyStore.toString(), new String(keyPassword), keyType)};
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kms, new TrustManager[] {tm}, null);
            return context;
        } catch (Exception e) {
            throw unreadable("trust or key store", trustStore, trustType, trustPassword, e);
        }
    }

    private static void checkFile(Path path, String what) {
        if (!Files.exists(path)) {
            throw new IllegalArgumentException(what + " " + path.toAbsolutePath() + " does not exist");
        }
        if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
            throw new IllegalArgumentException(what + " " + path.toAbsolutePath() + " is not a readable file");
        }
    }

    private static IllegalArgumentException unreadable(String what, Path path, String type, char[] password, Exception e) {
        String detail;
        if (hasCause(e, UnrecoverableKeyException.class) || containsIgnoreCase(e, "password")
                || containsIgnoreCase(e, "final block not properly padded") || containsIgnoreCase(e, "integrity check failed")) {
            detail = "the password is wrong (or the file is damaged)";
        } else if (containsIgnoreCase(e, "trustAnchors parameter must be non-empty")) {
            detail = "it holds no trusted certificate: import the CA certificate that signed the servers' certificates";
        } else {
            detail = scrub(rootMessage(e), password);
        }
        // the cause is left out on purpose: library messages could quote store contents
        return new IllegalArgumentException("cannot use " + what + " " + path.toAbsolutePath() + " as " + type + ": " + detail);
    }

    private static boolean hasCause(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }

    private static boolean containsIgnoreCase(Throwable t, String text) {
        String needle = text.toLowerCase(Locale.ROOT);
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c.getMessage() != null && c.getMessage().toLowerCase(Locale.ROOT).contains(needle)) {
                return true;
            }
        }
        return false;
    }

    private static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage());
    }

    /** Belt and braces: no password text in a message, even if a library quoted it. */
    static String scrub(String message, char[] password) {
        if (password == null || password.length < 3) {
            return message;
        }
        return message.replace(new String(password), "****");
    }
}
