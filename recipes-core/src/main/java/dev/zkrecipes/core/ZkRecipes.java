package dev.zkrecipes.core;

import static java.util.Objects.requireNonNull;
import static dev.zkrecipes.core.internal.Options.once;
import static dev.zkrecipes.core.internal.Options.positive;

import dev.zkrecipes.core.internal.ClientAcls;
import dev.zkrecipes.core.internal.ClientRecipes;
import dev.zkrecipes.core.internal.ConnectDiagnosis;
import dev.zkrecipes.core.internal.HandshakeProbe;
import dev.zkrecipes.core.internal.Lifecycle;
import dev.zkrecipes.core.internal.MicrometerMetrics;
import dev.zkrecipes.core.internal.RecipeAcl;
import dev.zkrecipes.core.internal.RecipeMetrics;
import dev.zkrecipes.core.internal.RecipePaths;
import dev.zkrecipes.core.internal.Retries;
import dev.zkrecipes.core.internal.SaslLogins;
import dev.zkrecipes.core.internal.SaslRefusals;
import dev.zkrecipes.core.internal.SaslWatch;
import dev.zkrecipes.core.internal.SerialExecutor;
import dev.zkrecipes.core.internal.TlsStores;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.curator.RetryPolicy;
import org.apache.curator.framework.api.CuratorEventType;
import org.apache.curator.framework.api.CuratorListener;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.ACLProvider;
import org.apache.curator.framework.imps.DefaultACLProvider;
import org.apache.curator.framework.imps.CuratorFrameworkState;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.client.ZKClientConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The entry point of zk-recipes: one ZooKeeper client (a Curator {@link CuratorFramework}) shared by
 * every recipe built on it.
 *
 * <pre>{@code
 * try (ZkRecipes zk = ZkRecipes.builder().connectString("127.0.0.1:2181").build()) {
 *     zk.start();
 *     zk.awaitConnected(Duration.ofSeconds(10));
 *     ...
 * }
 * }</pre>
 *
 * <p>Lifecycle: {@code LATENT} after {@link Builder#build()}, {@code STARTED} after {@link #start()},
 * {@code CLOSED} after {@link #close()}; a second {@code start()} or a start after close throws
 * {@link IllegalStateException}, a second {@code close()} does nothing.
 *
 * <p>Connection loss: the client reconnects by itself and keeps its session while the ensemble is
 * reachable within the session timeout. Recipes suspend what they hold the moment the connection is
 * in doubt (Curator's {@code SUSPENDED}) and resume it when the same session comes back; if the
 * session expires they drop what they held and rejoin on the new session. Blocking operations retry
 * under the retry policy and then throw {@link ConnectionLossException}.
 *
 * <p>Every recipe lives under {@value #ROOT} inside the client's namespace (chroot).
 */
public final class ZkRecipes implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ZkRecipes.class);

    /** The root under which every recipe's znodes live, inside the client's namespace. */
    public static final String ROOT = "/zkr";

    /** ZooKeeper's default limit on one request or response, when {@code jute.maxbuffer} is unset. */
    static final int DEFAULT_JUTE_MAX_BUFFER = 0xfffff;

    /** Room left in a request for the path, headers and transaction framing around a payload. */
    static final int REQUEST_OVERHEAD_BYTES = 8 * 1024;

    private final CuratorFramework curator;
    private final boolean owned;
    private final int maxPayloadBytes;
    private final Lifecycle lifecycle = new Lifecycle("ZkRecipes");
    /** Tells a TLS mismatch from a slow connection while waiting for it; null for a wrapped client. */
    private final ConnectDiagnosis diagnosis;
    /** Hears a refused SASL login; null without SASL. */
    private final SaslWatch sasl;
    private final String connectString;

    /** A wrapper's ear on its Curator client closing (null when this client owns its Curator). */
    private CuratorListener curatorClosing;

    private ZkRecipes(CuratorFramework curator, boolean owned, int maxPayloadBytes, ConnectDiagnosis diagnosis,
                      SaslWatch sasl, String connectString) {
        this.curator = curator;
        this.owned = owned;
        this.maxPayloadBytes = maxPayloadBytes;
        this.diagnosis = diagnosis;
        this.sasl = sasl;
        this.connectString = connectString;
        if (sasl != null) {
            sasl.watch(curator);
        }
    }

    /** A builder for a client that this {@code ZkRecipes} owns: {@link #close()} closes it. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Uses a Curator client the caller already has. The caller keeps ownership: {@link #close()}
     * leaves the client open, and {@link #start()} starts it only if nobody has yet.
     *
     * @throws NullPointerException if {@code curator} is null
     */
    public static ZkRecipes wrap(CuratorFramework curator) {
        requireNonNull(curator, "curator");
        ZkRecipes zk = new ZkRecipes(curator, false, defaultMaxPayloadBytes(), null, null, null);
        // the Curator client is the caller's: whoever closes it (directly, or a ZkRecipes that owns
        // it), the terms of recipes built through this wrapper end before its session does
        zk.curatorClosing = (client, event) -> {
            if (event.getType() == CuratorEventType.CLOSING) {
                ClientRecipes.endSessionScoped(zk);
            }
        };
        curator.getCuratorListenable().addListener(zk.curatorClosing);
        return zk;
    }

    /**
     * Starts the client: it begins connecting in the background and returns at once. Use
     * {@link #awaitConnected(Duration)} to wait for the first connection.
     *
     * @throws IllegalStateException if already started or closed
     */
    public void start() {
        lifecycle.start();
        if (diagnosis != null) {
            diagnosis.started();
        }
        if (curator.getState() == CuratorFrameworkState.LATENT) {
            curator.start();
        }
    }

    /**
     * Waits until the client is connected to the ensemble.
     *
     * <p>A client built here that is still not connected shortly after {@link #start()} checks, with
     * one TLS handshake per server, whether TLS is what stands in the way (a trust store that does
     * not trust the servers, a certificate without the dialled host name, a TLS client on a plaintext
     * port or the reverse): ZooKeeper's own client would only keep reconnecting in silence. If so,
     * this throws {@link TlsHandshakeException} within the connection timeout. Servers that are down
     * or unreachable are not a TLS matter: then this waits and returns false at the timeout.
     *
     * @return true when connected (and logged in, or answered once: see below), false when the timeout passed first
     * @throws TlsHandshakeException if no server can complete a TLS handshake with this client's settings
     * @throws NotAuthorizedException if the client uses {@link Builder#sasl SASL} and the login failed
     *     or the ensemble refused it (ZooKeeper's client then stops connecting for good); or if it has
     *     no SASL login and the ensemble requires one (such an ensemble grants a session, then refuses
     *     every request: a client built here asks once on each connection, and is connected for this
     *     method only once it was answered)
     * @throws IllegalStateException if not started, or closed
     * @throws InterruptedException if interrupted while waiting
     */
    public boolean awaitConnected(Duration timeout) throws InterruptedException {
        requireNonNull(timeout, "timeout");
        checkStarted();
        long deadline = System.nanoTime() + Math.max(0, Math.min(timeout.toNanos(), TimeUnit.DAYS.toNanos(365)));
        while (true) {
            long now = System.nanoTime();
            if (now - deadline >= 0) {
                if (sasl == null && SaslRefusals.refused(curator)) {
                    throw new NotAuthorizedException(refusedWithoutLogin());
                }
                return curator.getZookeeperClient().isConnected() && (sasl == null || sasl.authenticated());
            }
            long until = deadline;
            if (diagnosis != null && diagnosis.nextCheckNanos() - deadline < 0) {
                until = diagnosis.nextCheckNanos();
            }
            long waitMillis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(until - now + 999_999));
            if (sasl != null) {
                // a refused login is final: ZooKeeper's client stops trying, so say so now
                until = Math.min(until, now + SASL_CHECK_NANOS);
                waitMillis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(until - now + 999_999));
            }
            if (curator.blockUntilConnected((int) Math.min(Integer.MAX_VALUE, waitMillis), TimeUnit.MILLISECONDS)) {
                // the session comes before the SASL exchange: connected means logged in only after it
                if (sasl != null && sasl.awaitAuthenticated(Math.max(0, deadline - System.nanoTime()))) {
                    return true;
                }
                // without a login: an ensemble that requires one grants the session, then refuses
                // every request; connected means usable only once it answered one
                if (sasl == null) {
                    if (SaslRefusals.awaitServed(curator, Math.max(0, deadline - System.nanoTime()))) {
                        return true;
                    }
                    if (SaslRefusals.refused(curator)) {
                        throw new NotAuthorizedException(refusedWithoutLogin());
                    }
                }
            }
            if (sasl != null && sasl.failed()) {
                throw new NotAuthorizedException(sasl.message(connectString));
            }
            if (diagnosis != null && System.nanoTime() - deadline < 0) {
                TlsHandshakeException verdict = diagnosis.check(deadline, curator.getZookeeperClient()::isConnected);
                if (verdict != null && !curator.getZookeeperClient().isConnected()) {
                    throw new TlsHandshakeException(verdict.server(), verdict.reason(), verdict.getMessage(), verdict.getCause());
                }
            }
        }
    }

    private String refusedWithoutLogin() {
        return "the ensemble" + (connectString != null ? " at " + connectString : "")
                + " requires SASL authentication and refuses this client, which has no SASL login;"
                + " give it one with ZkRecipes.builder().sasl(...)";
    }

    /**
     * The underlying Curator client: the escape hatch for anything zk-recipes does not cover.
     * Available in every state; recipes and the caller share it.
     */
    public CuratorFramework curator() {
        return curator;
    }

    /**
     * Builds operations for a guarded {@code commit} without checked exceptions:
     * {@code term.commit(zk.ops().setData(path, bytes))}. Sends nothing, so it never meets a
     * connection loss; a malformed path fails when an op is built, with an
     * {@link IllegalArgumentException}.
     */
    public TransactionOps ops() {
        return new TransactionOps(curator);
    }

    /**
     * The largest payload (znode data) this client accepts, in bytes: {@code jute.maxbuffer} less
     * room for the request around it. Larger payloads fail with {@link PayloadTooLargeException}
     * before they are sent.
     */
    public int maxPayloadBytes() {
        return maxPayloadBytes;
    }

    /**
     * Throws {@link IllegalStateException} unless this client is started and not closed. Recipes call
     * it before they touch ZooKeeper so a forgotten {@code start()} fails with a clear message.
     */
    public void checkStarted() {
        if (owned) {
            lifecycle.checkStarted();
            return;
        }
        lifecycle.checkNotClosed();
        if (curator.getState() != CuratorFrameworkState.STARTED) {
            throw new IllegalStateException("the wrapped CuratorFramework is not started: call start() on it,"
                    + " or on this ZkRecipes, before using recipes");
        }
    }


    /**
     * Closes every recipe still open on this client (electors leave their elections with
     * {@code CLOSED}, observers, stores and consumer subscriptions stop; their handles then refuse
     * use), then closes the connection if this {@code ZkRecipes} owns it; a wrapped client stays
     * open, its recipes built through this wrapper closed all the same. The session ends, so
     * ZooKeeper deletes every ephemeral node it held at once. Idempotent.
     */
    @Override
    public void close() {
        if (!lifecycle.close()) {
            return;
        }
        // the recipes first, while the connection still lets them leave cleanly (nodes deleted now,
        // not when the session times out), then the connection
        if (!owned) {
            curator.getCuratorListenable().removeListener(curatorClosing);
            closeAll(ClientRecipes.takeAll(this));
        } else {
            // the session ends right after: it deletes every ephemeral node in one request, so the
            // recipes leave without deleting theirs one by one (a thousand leaderships move at once)
            ClientRecipes.sessionEnding(this);
            List<AutoCloseable> recipes = ClientRecipes.takeAll(this);
            List<ClientRecipes.SessionScoped> scoped = new ArrayList<>();
            List<AutoCloseable> needSession = new ArrayList<>();
            for (AutoCloseable r : recipes) {
                if (r instanceof ClientRecipes.SessionScoped s) {
                    scoped.add(s);
                } else {
                    needSession.add(r);
                }
            }
            // a store's watches, a consumer's handlers finishing their tasks: these need the session
            closeAll(needSession);
            // terms end before the session does (never an old leader that still says it leads), all
            // at once: the successors are elected as soon as the session is gone
            ClientRecipes.endRights(scoped);
            curator.close();
            // with the session gone their close sends nothing: one after the other, no threads
            for (ClientRecipes.SessionScoped s : scoped) {
                closeQuietly(s);
            }
            // the recipes are closed and the connection with them: their threads go too
            SerialExecutor.closePools(curator);
        }
        if (sasl != null) {
            sasl.close();
        }
    }

    /**
     * Returns {@code name} if it is a valid recipe name: one or more {@code /}-separated segments,
     * each non-empty, not {@code .} or {@code ..}, without control characters, 512 characters in all
     * at most. Every recipe checks its name this way before anything is sent; tools can check first.
     *
     * @throws IllegalArgumentException quoting the name and saying what is wrong with it
     */
    public static String validateName(String name) {
        return RecipePaths.validateName(name);
    }

    /**
     * Closes {@code recipes} side by side: each waits for its own delete, so one after the other a
     * thousand electors would take a thousand round trips to hand their leaderships on.
     */
    private static void closeAll(List<AutoCloseable> recipes) {
        if (recipes.isEmpty()) {
            return;
        }
        ExecutorService closers = Executors.newFixedThreadPool(Math.min(CLOSERS, recipes.size()), r -> {
            Thread t = new Thread(r, "zkr-close");
            t.setDaemon(true);
            return t;
        });
        for (AutoCloseable recipe : recipes) {
            closers.execute(() -> closeQuietly(recipe));
        }
        closers.shutdown();
        try {
            if (!closers.awaitTermination(CLOSE_ALL_SECONDS, TimeUnit.SECONDS)) {
                LOG.warn("{} recipes were still closing {} s after their client began to close", recipes.size(),
                        CLOSE_ALL_SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(AutoCloseable recipe) {
        try {
            recipe.close();
        } catch (Exception e) {
            LOG.warn("closing {} along with its client: {}", recipe, e.toString());
        }
    }

    private static final long SASL_CHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final int CLOSERS = 32;
    private static final long CLOSE_ALL_SECONDS = 30;

    static int defaultMaxPayloadBytes() {
        int juteMaxBuffer = Integer.getInteger("jute.maxbuffer", DEFAULT_JUTE_MAX_BUFFER);
        return Math.max(1024, juteMaxBuffer - REQUEST_OVERHEAD_BYTES);
    }

    /**
     * Options for a {@link ZkRecipes} client. Defaults are safe rather than fast: session timeout
     * 15 s, connection timeout 5 s, exponential back-off retry (100 ms doubling, up to 3 s, 8 times).
     * Each option may be set once; a second call fails with {@link IllegalStateException}.
     */
    public static final class Builder {
        private String connectString;
        private String namespace;
        private Duration sessionTimeout;
        private Duration connectionTimeout;
        private String digestUser;
        private String digestPassword;
        private RetryPolicy retryPolicy;
        private TlsConfig tls;
        private SaslConfig sasl;
        private ACLProvider recipeAcl;
        private Object meterRegistry;

        private Builder() {
        }

        /** Required: comma-separated {@code host:port} list of the ensemble. */
        public Builder connectString(String connectString) {
            requireNonNull(connectString, "connectString");
            once(this.connectString, "connectString");
            if (connectString.isBlank()) {
                throw new IllegalArgumentException("connectString is blank; give host:port[,host:port...]");
            }
            this.connectString = connectString;
            return this;
        }

        /**
         * Optional chroot: every path of this client lives under {@code /<namespace>}. Useful to keep
         * applications, or tests, apart on one ensemble.
         */
        public Builder namespace(String namespace) {
            requireNonNull(namespace, "namespace");
            once(this.namespace, "namespace");
            if (namespace.isEmpty() || namespace.startsWith("/") || namespace.endsWith("/")) {
                throw new IllegalArgumentException("namespace '" + namespace
                        + "' must be non-empty and must not start or end with '/', e.g. \"myapp\"");
            }
            this.namespace = namespace;
            return this;
        }

        /**
         * How long the ensemble keeps the session (and so every ephemeral node) alive without hearing
         * from this client. The client suspends recipes after about two thirds of it without contact.
         * Default 15 s. The server clamps it to its own [2, 20] × tickTime range.
         */
        public Builder sessionTimeout(Duration sessionTimeout) {
            once(this.sessionTimeout, "sessionTimeout");
            this.sessionTimeout = positive(sessionTimeout, "sessionTimeout");
            return this;
        }

        /** How long to wait for a connection before an operation fails or retries. Default 5 s. */
        public Builder connectionTimeout(Duration connectionTimeout) {
            once(this.connectionTimeout, "connectionTimeout");
            this.connectionTimeout = positive(connectionTimeout, "connectionTimeout");
            return this;
        }

        /**
         * Authenticates with ZooKeeper's digest scheme. Nodes are then created for a shared
         * ensemble: the shared parents ({@code /zkr}, {@code /zkr/<kind>}, the namespace root) are
         * readable by anyone and anyone may create children under them, so every identity can start
         * its own recipes; a recipe's node and everything below it are creator-only (unless
         * {@link #aclProvider} says otherwise): other identities can neither read, join, take, change
         * nor delete them. The password is kept only in this client and never printed.
         */
        public Builder digestAuth(String user, String password) {
            requireNonNull(user, "user");
            requireNonNull(password, "password");
            once(this.digestUser, "digestAuth");
            if (user.isEmpty() || user.indexOf(':') >= 0) {
                throw new IllegalArgumentException("digest user '" + user + "' must be non-empty and hold no ':'");
            }
            this.digestUser = user;
            this.digestPassword = password;
            return this;
        }

        /**
         * The ACLs of recipe nodes (a recipe's node and everything below it), e.g. creator-only plus
         * read for an operators' identity, or shared rights for the services that use one queue.
         * The shared parents keep their fixed ACL (see {@link #digestAuth}); the provider is asked
         * only for the rest. Default: creator-only once authenticated, open otherwise.
         */
        public Builder aclProvider(ACLProvider recipeNodes) {
            requireNonNull(recipeNodes, "recipeNodes");
            once(this.recipeAcl, "aclProvider");
            this.recipeAcl = recipeNodes;
            return this;
        }

        /**
         * Reports this client's connection and what its recipes do as Micrometer meters (names and
         * what to alert on: README, "Metrics"). Micrometer is an optional dependency: without this
         * call no Micrometer class is loaded and none need be on the classpath.
         */
        public Builder meterRegistry(io.micrometer.core.instrument.MeterRegistry registry) {
            requireNonNull(registry, "registry");
            once(this.meterRegistry, "meterRegistry");
            this.meterRegistry = registry;
            return this;
        }

        /** How operations retry across connection loss before failing with {@link ConnectionLossException}. */
        public Builder retryPolicy(RetryPolicy retryPolicy) {
            requireNonNull(retryPolicy, "retryPolicy");
            once(this.retryPolicy, "retryPolicy");
            this.retryPolicy = retryPolicy;
            return this;
        }

        /**
         * Connects over TLS: the connect string then names the servers' {@code secureClientPort}.
         * The settings are this client's own (a ZooKeeper client configuration of its own, not JVM
         * system properties), so clients with different TLS settings can share a JVM.
         *
         * <p>Connection loss: every reconnect, to any server of the connect string, and the new
         * session after an expiry, uses the same settings; the store files are read again for each
         * new connection, so renewed certificates are picked up on the next reconnect. A handshake
         * that cannot complete is reported by {@link ZkRecipes#awaitConnected(Duration)} as
         * {@link TlsHandshakeException}.
         */
        public Builder tls(TlsConfig tls) {
            requireNonNull(tls, "tls");
            once(this.tls, "tls");
            this.tls = tls;
            return this;
        }

        /**
         * Authenticates with SASL: DIGEST-MD5 with credentials given in code, or any JAAS login
         * (Kerberos) through a section of the JVM's JAAS configuration; see {@link SaslConfig}. Recipe
         * nodes then get the same ACLs as with {@link #digestAuth}: creator-only for the identity
         * {@code sasl:<user or principal>}, shared parents open to every identity.
         *
         * <p>Connection loss: every reconnect and every new session logs in again with the same
         * settings. {@link ZkRecipes#awaitConnected(Duration)} returns true only once the current
         * connection is logged in, and throws {@link NotAuthorizedException} when its login failed: a
         * refusal by the ensemble (wrong password, unknown user, no SASL there) is final for this
         * client; a login that fails in the client (its JAAS section gone) is tried again on the
         * next reconnect.
         *
         * @throws IllegalStateException if called twice
         */
        public Builder sasl(SaslConfig sasl) {
            requireNonNull(sasl, "sasl");
            once(this.sasl, "sasl");
            this.sasl = sasl;
            return this;
        }

        /**
         * Builds the client, not yet connected: call {@link ZkRecipes#start()}.
         *
         * @throws IllegalStateException if {@link #connectString(String)} was not set
         */
        public ZkRecipes build() {
            if (connectString == null) {
                throw new IllegalStateException("connectString is required, e.g. .connectString(\"127.0.0.1:2181\")");
            }
            Duration connectTimeout = connectionTimeout != null ? connectionTimeout : Duration.ofSeconds(5);
            CuratorFrameworkFactory.Builder b = CuratorFrameworkFactory.builder()
                    .connectString(connectString)
                    .sessionTimeoutMs(millis(sessionTimeout, Duration.ofSeconds(15)))
                    .connectionTimeoutMs((int) connectTimeout.toMillis())
                    // counting retries lets a recipe tell its own lost-reply write from another's
                    .retryPolicy(Retries.tracking(retryPolicy != null ? retryPolicy : new ExponentialBackoffRetry(100, 8, 3000)));
            HandshakeProbe probe = HandshakeProbe.plaintext();
            ZKClientConfig clientConfig = null;
            if (tls != null) {
                TlsConfig t = tls;
                Path keyStore = t.keyStore().orElse(null);
                String keyType = t.keyStoreType().orElse(null);
                clientConfig = TlsStores.clientConfig(t.trustStore(), t.trustStoreType(), t.trustStorePassword(),
                        keyStore, keyType, t.keyStorePassword(), t.hostnameVerification());
                probe = HandshakeProbe.tls(() -> TlsStores.sslContext(t.trustStore(), t.trustStoreType(), t.trustStorePassword(),
                        keyStore, keyType, t.keyStorePassword()), t.hostnameVerification(), t.trustStore().toString());
            }
            SaslWatch saslWatch = null;
            if (sasl != null) {
                String section;
                String own = null;
                boolean digest = true;
                if (sasl.user().isPresent()) {
                    char[] password = sasl.password();
                    own = SaslLogins.digestSection(sasl.user().get(), password);
                    java.util.Arrays.fill(password, '\0');
                    section = own;
                } else {
                    section = sasl.jaasSectionName().orElseThrow();
                    digest = SaslLogins.requireSection(section);
                }
                clientConfig = clientConfig != null ? clientConfig : new ZKClientConfig();
                SaslLogins.configure(clientConfig, section, sasl.serviceName().orElse(null), digest);
                saslWatch = new SaslWatch(sasl.toString(), own);
            }
            if (clientConfig != null) {
                b.zkClientConfig(clientConfig);
            }
            if (namespace != null) {
                b.namespace(namespace);
            }
            if (digestUser != null) {
                b.authorization("digest", (digestUser + ":" + digestPassword).getBytes(StandardCharsets.UTF_8));
            }
            ACLProvider acl = digestUser != null || sasl != null || recipeAcl != null
                    ? new RecipeAcl(namespace, recipeAcl) : new DefaultACLProvider();
            b.aclProvider(acl);
            try {
                ConnectDiagnosis diagnosis = new ConnectDiagnosis(connectString, probe, connectTimeout);
                ZkRecipes zk = new ZkRecipes(b.build(), true, defaultMaxPayloadBytes(), diagnosis, saslWatch, connectString);
                ClientAcls.register(zk.curator, acl);
                if (saslWatch == null) {
                    SaslRefusals.askOnEveryConnection(zk.curator);
                }
                if (meterRegistry != null) {
                    RecipeMetrics.register(zk, MicrometerMetrics.create(meterRegistry, zk.curator));
                }
                return zk;
            } catch (RuntimeException e) {
                if (saslWatch != null) {
                    saslWatch.close();  // the in-memory login must not outlive a client never built
                }
                throw e;
            }
        }

        private static int millis(Duration d, Duration dflt) {
            return (int) (d != null ? d : dflt).toMillis();
        }
    }

}
