package dev.zkrecipes.core;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * SASL authentication to ZooKeeper, for {@link ZkRecipes.Builder#sasl(SaslConfig)}. Two kinds:
 * <pre>{@code
 * // DIGEST-MD5 with a user the ensemble's JAAS "Server" section knows: no JAAS file needed
 * ZkRecipes.builder().connectString("zk1:2181").sasl(SaslConfig.digest("orders", password)).build();
 *
 * // anything JAAS can log in with, Kerberos included: a section of the JVM's JAAS configuration
 * // (-Djava.security.auth.login.config=/etc/orders/jaas.conf)
 * ZkRecipes.builder().connectString("zk1:2181").sasl(SaslConfig.jaasSection("ZkClient")).build();
 * }</pre>
 * The identity ZooKeeper sees is {@code sasl:<user or principal>}; with SASL, recipe nodes are
 * created for a shared ensemble exactly as with {@code digestAuth} (see the README, "Security").
 *
 * <p>Each client uses its own login: two clients of one JVM may authenticate as different users.
 * For {@link #digest}, the credentials are held in memory by this library (in a JAAS section of
 * its own, added to the JVM's JAAS configuration, which stays in charge of every other section);
 * replacing the JVM's JAAS configuration with {@code Configuration.setConfiguration} while such a
 * client runs makes its next reconnect fail authentication. Connection loss: every reconnect, and
 * every new session, logs in again with this login; a failed login is reported by
 * {@code awaitConnected} as {@link NotAuthorizedException}. Bad input (a blank user, section or
 * service name) fails with {@link IllegalArgumentException} before anything is sent. Immutable; the
 * password is never part of {@link #toString()}, of log lines or of exception messages.
 */
public final class SaslConfig {

    private final String user;
    private final char[] password;
    private final String jaasSection;
    private final String serviceName;

    private SaslConfig(String user, char[] password, String jaasSection, String serviceName) {
        this.user = user;
        this.password = password;
        this.jaasSection = jaasSection;
        this.serviceName = serviceName;
    }

    /**
     * DIGEST-MD5 as {@code user}: the server must know the user (its JAAS {@code Server} section,
     * {@code DigestLoginModule} with {@code user_<name>="<password>"}).
     *
     * @throws IllegalArgumentException if the user is empty
     */
    public static SaslConfig digest(String user, String password) {
        requireNonNull(user, "user");
        requireNonNull(password, "password");
        if (user.isBlank()) {
            throw new IllegalArgumentException("SASL user must not be blank");
        }
        return new SaslConfig(user, password.toCharArray(), null, null);
    }

    /**
     * Logs in through the named section of the JVM's JAAS configuration (ZooKeeper's client uses
     * {@code Client} when none is named): the way to Kerberos ({@code Krb5LoginModule}) or any other
     * JAAS login module. {@link ZkRecipes.Builder#build()} checks that the section exists.
     *
     * @throws IllegalArgumentException if the name is blank
     */
    public static SaslConfig jaasSection(String section) {
        requireNonNull(section, "section");
        if (section.isBlank()) {
            throw new IllegalArgumentException("JAAS section name must not be blank, e.g. \"Client\"");
        }
        return new SaslConfig(null, null, section, null);
    }

    /**
     * The same, but the server's service name (the first part of its Kerberos principal,
     * {@code zookeeper/host@REALM}) is {@code name} instead of ZooKeeper's default {@code zookeeper}.
     */
    public SaslConfig withServiceName(String name) {
        requireNonNull(name, "name");
        if (name.isBlank()) {
            throw new IllegalArgumentException("service name must not be blank, e.g. \"zookeeper\"");
        }
        return new SaslConfig(user, password, jaasSection, name);
    }

    /** The DIGEST-MD5 user, for {@link #digest}. */
    public Optional<String> user() {
        return Optional.ofNullable(user);
    }

    /** The JVM's JAAS section to log in with, for {@link #jaasSection}. */
    public Optional<String> jaasSectionName() {
        return Optional.ofNullable(jaasSection);
    }

    /** The server's service name, if not ZooKeeper's default {@code zookeeper}. */
    public Optional<String> serviceName() {
        return Optional.ofNullable(serviceName);
    }

    /** A copy of the DIGEST-MD5 password (for the library's login; never printed). */
    char[] password() {
        return password == null ? null : password.clone();
    }

    /** What a log line or message may say about this login: never the password. */
    @Override
    public String toString() {
        String who = user != null ? "DIGEST-MD5 as '" + user + "'" : "JAAS section '" + jaasSection + "'";
        return "SaslConfig[" + who + (serviceName != null ? ", service " + serviceName : "") + "]";
    }
}
