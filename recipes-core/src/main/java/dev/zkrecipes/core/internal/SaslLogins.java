package dev.zkrecipes.core.internal;

import java.util.Arrays;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import javax.security.auth.login.AppConfigurationEntry;
import javax.security.auth.login.Configuration;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.common.X509Util;

/**
 * SASL logins of clients built here. ZooKeeper's client logs in through JAAS, whose configuration
 * is one per JVM; a DIGEST-MD5 login given in code gets a section of its own with a unique name,
 * served by a {@link Configuration} that answers those sections and hands every other name to the
 * configuration that was in place (so a user's JAAS file keeps working). The client is then pointed
 * at its section through its own {@link ZKClientConfig}, never through system properties.
 */
public final class SaslLogins {

    private static final String DIGEST_LOGIN_MODULE = "org.apache.zookeeper.server.auth.DigestLoginModule";
    private static final Map<String, AppConfigurationEntry[]> SECTIONS = new ConcurrentHashMap<>();

    private SaslLogins() {
    }

    /**
     * Adds a DIGEST-MD5 section for {@code user} and returns its name; remove it with
     * {@link #forget(String)} when the client closes.
     */
    public static String digestSection(String user, char[] password) {
        String name = "zkr-sasl-" + UUID.randomUUID();
        AppConfigurationEntry entry = new AppConfigurationEntry(DIGEST_LOGIN_MODULE,
                AppConfigurationEntry.LoginModuleControlFlag.REQUIRED,
                Map.of("username", user, "password", new String(password)));
        SECTIONS.put(name, new AppConfigurationEntry[] {entry});
        installed();
        return name;
    }

    /** Removes a section made by {@link #digestSection}; nothing for other names. */
    public static void forget(String section) {
        SECTIONS.remove(section);
    }

    /**
     * Checks that the JVM's JAAS configuration has {@code section}, with what to do if not.
     *
     * @return whether the section logs in with ZooKeeper's {@code DigestLoginModule} (DIGEST-MD5)
     * @throws IllegalArgumentException if it has not
     */
    public static boolean requireSection(String section) {
        AppConfigurationEntry[] entries;
        try {
            entries = installed().getAppConfigurationEntry(section);
        } catch (SecurityException | IllegalArgumentException e) {
            throw new IllegalArgumentException("cannot read the JVM's JAAS configuration for section '" + section + "': "
                    + e.getMessage() + "; check -Djava.security.auth.login.config", e);
        }
        if (entries == null || entries.length == 0) {
            String file = System.getProperty("java.security.auth.login.config");
            throw new IllegalArgumentException("JAAS section '" + section + "' not found in "
                    + (file == null ? "the JVM's JAAS configuration (no -Djava.security.auth.login.config is set)"
                            : "the JAAS configuration " + file)
                    + "; add it there, e.g. " + section + " { com.sun.security.auth.module.Krb5LoginModule required ...; };");
        }
        return Arrays.stream(entries).anyMatch(e -> DIGEST_LOGIN_MODULE.equals(e.getLoginModuleName()));
    }

    /**
     * The client settings that make a ZooKeeper client log in through {@code section}. With
     * {@code digest}, the client's FIPS mode is turned off: ZooKeeper 3.9 refuses DIGEST-MD5 (not a
     * FIPS-approved mechanism) in FIPS mode, which is its default.
     */
    public static void configure(ZKClientConfig config, String section, String serviceName, boolean digest) {
        config.setProperty(ZKClientConfig.ENABLE_CLIENT_SASL_KEY, "true");
        if (digest) {
            config.setProperty(X509Util.FIPS_MODE_PROPERTY, "false");
        }
        config.setProperty(ZKClientConfig.LOGIN_CONTEXT_NAME_KEY, section);
        if (serviceName != null) {
            config.setProperty(ZKClientConfig.ZK_SASL_CLIENT_USERNAME, serviceName);
        }
    }

    /** Ours, wrapping whatever the JVM had: installed again if someone replaced it meanwhile. */
    private static synchronized Configuration installed() {
        Configuration current;
        try {
            current = Configuration.getConfiguration();
        } catch (SecurityException noConfiguration) {
            current = null;
        }
        if (current instanceof Sections) {
            return current;
        }
        Sections ours = new Sections(current);
        Configuration.setConfiguration(ours);
        return ours;
    }

    private static final class Sections extends Configuration {
        private final Configuration before;

        Sections(Configuration before) {
            this.before = before;
        }

        @Override
        public AppConfigurationEntry[] getAppConfigurationEntry(String name) {
            AppConfigurationEntry[] ours = SECTIONS.get(name);
            if (ours != null) {
                return ours.clone();
            }
            return before == null ? null : before.getAppConfigurationEntry(name);
        }

        @Override
        public void refresh() {
            if (before != null) {
                before.refresh();
            }
        }
    }
}
