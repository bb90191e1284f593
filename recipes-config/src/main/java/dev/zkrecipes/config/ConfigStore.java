package dev.zkrecipes.config;

import static java.util.Objects.requireNonNull;

import dev.zkrecipes.config.internal.ConfigDocument;
import dev.zkrecipes.config.internal.StoreDirectory;
import dev.zkrecipes.config.internal.Keys;
import dev.zkrecipes.config.internal.LocalCopy;
import dev.zkrecipes.core.ConnectionLossException;
import dev.zkrecipes.core.NotAuthorizedException;
import dev.zkrecipes.core.CorruptDataException;
import dev.zkrecipes.core.VersionConflictException;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.core.internal.Background;
import dev.zkrecipes.core.internal.ClientRecipes;
import dev.zkrecipes.core.internal.Deadline;
import dev.zkrecipes.core.internal.Lifecycle;
import dev.zkrecipes.core.internal.Options;
import dev.zkrecipes.core.internal.PayloadLimit;
import dev.zkrecipes.core.internal.RecipeMetrics;
import dev.zkrecipes.core.internal.RecipePaths;
import dev.zkrecipes.core.internal.SerialExecutor;
import dev.zkrecipes.core.internal.ZkErrors;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shared configuration: a live local copy of {@code /zkr/config/<name>} on every node that opens
 * it, kept in sync by a Curator {@code CuratorCache}.
 *
 * <pre>{@code
 * try (ConfigStore cfg = ConfigStore.open(zk, "billing")) {
 *     int workers = cfg.getInt("workers", 4);
 *     cfg.putAll(Map.of("db.host", "10.0.0.7", "db.port", "5433"));   // atomic for every reader
 *     cfg.addListener(change -> log.info("{} is now {}", change.key(), change.newValue()));
 * }
 * }</pre>
 *
 * <p><b>Design: one znode per store.</b> The whole store is one JSON document in one znode, so
 * {@link #putAll} replaces it in one step and no reader, on any node, can see half of a batch (a
 * cache of one znode per key applies a batch one key at a time). The price: the store must fit in
 * one znode (about 1 MiB, checked before sending: {@link dev.zkrecipes.core.PayloadTooLargeException}),
 * and every write rewrites the document; this is for configuration, not for bulk data. Each key
 * carries its own version (the znode's data version as of the write that last changed the key), so
 * {@link #compareAndSet} is per key: a write to another key does not make it fail.
 *
 * <p><b>Reads</b> are local and never block. <b>Read-your-writes:</b> when a write returns, this
 * store's reads show it (or something newer), before the cache's own event arrives.
 *
 * <p><b>Connection loss:</b> reads keep serving the last copy seen; writes retry under the retry
 * policy. Every write carries a write id into the document, so a write whose reply was lost (and
 * which Curator's retry then found "changed") is recognised as applied and returns normally; a
 * conditional write never reports a conflict for its own applied write. When the retry policy gives
 * up, the store is read back once: {@link ConnectionLossException} then says whether the write was
 * not applied or its outcome is unknown.
 *
 * <p><b>Unreadable data:</b> a node that does not hold a config document (another tool, a newer
 * version) makes {@link #open} throw {@link CorruptDataException}; if it turns up later, the store
 * keeps serving its last good copy, tells listeners ({@link ConfigListener#unreadable}) and refuses
 * writes with {@link CorruptDataException}, never overwriting what it could not read. A store the
 * caller may not read fails {@link #open} with {@link dev.zkrecipes.core.NotAuthorizedException}. After a reconnect or a new session the cache
 * reads the node again, and listeners hear every key that changed meanwhile (intermediate values of
 * a key that changed several times while cut off are not replayed). A value older than one already
 * reported is never reported as current again.
 */
public final class ConfigStore implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ConfigStore.class);
    private static final Duration DEFAULT_OPEN_TIMEOUT = Duration.ofSeconds(15);
    private static final int MAX_WRITE_ATTEMPTS = 100;

    /** What this store last saw of its znode; {@code version} -1 when the znode does not exist. */
    private record View(ConfigDocument document, long czxid, int version) {
        static final View ABSENT = new View(ConfigDocument.EMPTY, 0, -1);

        Map<String, Versioned<String>> entries() {
            return document.entries();
        }
    }

    private final CuratorFramework curator;
    private final String name;
    private final String path;
    private final int maxPayload;
    private final ZkRecipes zk;
    private final CuratorCache cache;
    /** Reads of the node that the cache was refused (NOAUTH) in the background: every read throws them. */
    private final LocalCopy.Refusals refusals;
    private final SerialExecutor callbacks;
    private final CopyOnWriteArrayList<ConfigListener> listeners = new CopyOnWriteArrayList<>();
    private final RecipeMetrics metrics;
    private final Lifecycle lifecycle;
    private volatile View view = View.ABSENT;
    /**
     * Set while the node holds data that is not a config document, so that the problem is reported
     * once. Writes need no check of it: their versioned write fails (the foreign write moved the
     * version) and the re-read then throws the CorruptDataException.
     */
    private volatile CorruptDataException unreadable;

    private ConfigStore(ZkRecipes zk, String name) {
        this.zk = zk;
        this.curator = zk.curator();
        this.name = name;
        this.metrics = RecipeMetrics.of(zk);
        this.path = RecipePaths.config(name);
        this.maxPayload = zk.maxPayloadBytes();
        this.refusals = new LocalCopy.Refusals("config store '" + name + "' (" + path + ")");
        this.cache = LocalCopy.build(curator, path, refusals, CuratorCache.Options.SINGLE_NODE_CACHE);
        this.callbacks = SerialExecutor.forCallbacks("config-" + name, zk.curator());
        this.lifecycle = new Lifecycle("ConfigStore('" + name + "')");
    }

    /**
     * Opens store {@code name}, returning once the local copy holds what the ensemble has (waits up
     * to 15 s). Nothing is written: a store that was never written to is empty.
     *
     * @throws IllegalArgumentException if {@code name} is not a valid recipe name
     * @throws dev.zkrecipes.core.NotAuthorizedException if the store exists and this client's identity
     *         may not read it (never an empty store)
     * @throws ConnectionLossException if the first read did not complete in time
     * @throws InterruptedException if interrupted while waiting
     */
    public static ConfigStore open(ZkRecipes zk, String name) throws InterruptedException {
        return open(zk, name, DEFAULT_OPEN_TIMEOUT);
    }

    /**
     * Like {@link #open(ZkRecipes, String)}, waiting up to {@code timeout} for the first read. The
     * bound holds on an unreachable ensemble too ({@link ConnectionLossException} at it), not only
     * as long as Curator's retry policy: the reads are sent in the background.
     *
     * @throws IllegalArgumentException if {@code timeout} is negative, or {@code name} is not a valid recipe name
     */
    public static ConfigStore open(ZkRecipes zk, String name, Duration timeout) throws InterruptedException {
        requireNonNull(zk, "zk");
        Options.nonNegative(timeout, "timeout");
        RecipePaths.validateName(name);
        zk.checkStarted();
        ConfigStore store = new ConfigStore(zk, name);
        store.start(timeout);
        return store;
    }

    /**
     * The names of the config stores on this ensemble (in the client's namespace), sorted: every
     * node under {@code /zkr/config} that holds a document. Reads only; creates nothing.
     *
     * @throws ConnectionLossException if the ensemble cannot be reached within the retry policy
     */
    public static List<String> names(ZkRecipes zk) {
        requireNonNull(zk, "zk");
        zk.checkStarted();
        return StoreDirectory.names(zk.curator(), RecipePaths.CONFIG_ROOT, data -> data != null && data.length > 0, true);
    }

    /**
     * Deletes config store {@code name} from the ensemble: every key, for every client. Open stores
     * of that name see it empty. Nested stores ({@code name/...}) are left alone.
     *
     * <p>Connection loss: past the retry policy,
     * {@link dev.zkrecipes.core.ConnectionLossException}, the outcome unknown. A retry after a lost
     * reply may find nothing and report false although this call deleted the store.
     *
     * @return true if it existed
     * @throws IllegalArgumentException if {@code name} is not a valid recipe name
     */
    public static boolean deleteStore(ZkRecipes zk, String name) {
        requireNonNull(zk, "zk");
        String path = RecipePaths.config(name);
        zk.checkStarted();
        try {
            Stat stat = zk.curator().checkExists().forPath(path);
            if (stat == null) {
                return false;
            }
            if (stat.getNumChildren() > 0) {
                // a nested store lives below: keep the node, empty the document
                zk.curator().setData().forPath(path, new byte[0]);
            } else {
                zk.curator().delete().guaranteed().forPath(path);
            }
            return true;
        } catch (KeeperException.NoNodeException gone) {
            return true;
        } catch (Exception e) {
            throw ZkErrors.translate(zk.curator(), e, "deleting config store '" + name + "'");
        }
    }

    private void start(Duration timeout) throws InterruptedException {
        Deadline deadline = Deadline.after(timeout);
        lifecycle.start();
        ClientRecipes.opened(zk, this);
        try {
            // one read of our own first: a store we may not read, or cannot decode, fails here
            // with its own typed error instead of opening as an empty store
            readFirst(deadline);
        } catch (RuntimeException | InterruptedException e) {
            close();
            throw e;
        }
        LocalCopy.start(cache, CuratorCacheListener.builder()
                .forAll((type, oldData, data) -> {
                    if (type == CuratorCacheListener.Type.NODE_DELETED) {
                        applyDeleted(oldData);
                    } else {
                        applyData(data);
                    }
                })
                .build(), Duration.ofNanos(deadline.remainingNanos()), "config store '" + name + "' (" + path + ")",
                refusals, this::close);
    }

    /**
     * {@link #readFromEnsemble()} within {@code deadline}: sent in the background, since Curator's
     * foreground read would block through the whole retry policy on an unreachable ensemble.
     */
    private void readFirst(Deadline deadline) throws InterruptedException {
        try {
            CuratorEvent read = Background.callServed(curator, deadline,
                    cb -> curator.getData().inBackground(cb).forPath(path));
            if (read.getResultCode() == KeeperException.Code.NONODE.intValue()) {
                return;
            }
            applyRead(Background.succeeded(read).getData(), read.getStat());
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            throw ZkErrors.translate(curator, e, "reading config store '" + name + "'");
        }
    }

    // ---- reads: local, never blocking ----

    /**
     * The value of {@code key}, or empty.
     *
     * <p>Every read (here and below) throws {@link dev.zkrecipes.core.NotAuthorizedException} instead
     * of answering if the local copy was refused a read of the node in the background (the store was
     * created, or its ACL changed, after {@link #open} by an identity that does not grant this one
     * READ), until a read succeeds again: a default value is never served in place of a store the
     * caller may not see.
     */
    public Optional<String> get(String key) {
        Versioned<String> v = readable().entries().get(Keys.validate(key));
        return v == null ? Optional.empty() : Optional.of(v.value());
    }

    /** The value of {@code key}, or {@code defaultValue} when absent. */
    public String get(String key, String defaultValue) {
        return get(key).orElse(defaultValue);
    }

    /** The value with its version, or empty. */
    public Optional<Versioned<String>> getVersioned(String key) {
        return Optional.ofNullable(readable().entries().get(Keys.validate(key)));
    }

    /**
     * The value as an int, or {@code defaultValue} when absent.
     *
     * @throws IllegalArgumentException if the value is present but not an int (a misconfiguration)
     */
    public int getInt(String key, int defaultValue) {
        return get(key).map(v -> parse(key, v, "an int", Integer::parseInt)).orElse(defaultValue);
    }

    /** The value as a long, or {@code defaultValue}; a malformed value throws IllegalArgumentException. */
    public long getLong(String key, long defaultValue) {
        return get(key).map(v -> parse(key, v, "a long", Long::parseLong)).orElse(defaultValue);
    }

    /** The value as a boolean ({@code true}/{@code false}, any case), or {@code defaultValue}. */
    public boolean getBoolean(String key, boolean defaultValue) {
        return get(key).map(v -> parse(key, v, "a boolean (true or false)", s -> {
            if (s.equalsIgnoreCase("true") || s.equalsIgnoreCase("false")) {
                return Boolean.parseBoolean(s);
            }
            throw new IllegalArgumentException(s);
        })).orElse(defaultValue);
    }

    /**
     * The value as a duration, or {@code defaultValue}: {@code 250ms}, {@code 30s}, {@code 5m},
     * {@code 2h}, {@code 1d}, or ISO-8601 ({@code PT30S}).
     */
    public Duration getDuration(String key, Duration defaultValue) {
        return get(key).map(v -> parse(key, v, "a duration (e.g. 30s, 250ms, PT1M)", Durations::parse)).orElse(defaultValue);
    }

    /** Every key with its value and version, as one consistent, immutable picture. */
    public Map<String, Versioned<String>> snapshot() {
        return readable().entries();
    }

    /** The local copy, unless the cache was refused a read of the node since it last read it. */
    private View readable() {
        // a closed store no longer follows the ensemble: its copy would silently go stale
        lifecycle.checkNotClosed();
        refusals.check();
        return view;
    }

    // ---- writes ----

    /**
     * Sets {@code key} to {@code value}.
     *
     * @return the value with its new version
     * @throws dev.zkrecipes.core.PayloadTooLargeException if the store would no longer fit in its znode
     * @throws ConnectionLossException if the ensemble stayed unreachable past the retry policy
     */
    public Versioned<String> put(String key, String value) {
        return putAll(Map.of(Keys.validate(key), requireNonNull(value, "value"))).get(key);
    }

    /**
     * Sets every key of {@code values} in one atomic write: every reader sees all of them or none.
     *
     * @return the written keys with their new version
     */
    public Map<String, Versioned<String>> putAll(Map<String, String> values) {
        requireNonNull(values, "values");
        values.forEach((k, v) -> {
            Keys.validate(k);
            requireNonNull(v, "value of key '" + k + "'");
        });
        View written = write(current -> {
            Map<String, Versioned<String>> next = new TreeMap<>(current.entries());
            values.forEach((k, v) -> next.put(k, new Versioned<>(v, current.version() + 1)));
            return next;
        });
        Map<String, Versioned<String>> result = new TreeMap<>();
        values.keySet().forEach(k -> result.put(k, written.entries().get(k)));
        return result;
    }

    /**
     * Sets {@code key} to {@code value} only if its version is still {@code expectedVersion} (from
     * {@link #snapshot()} or {@link #getVersioned}); {@code -1} means the key must be absent. Writes
     * to other keys in between do not make it fail.
     *
     * @return the value with its new version
     * @throws VersionConflictException if the key changed (or appeared, or vanished) in between;
     *         nothing was written
     */
    public Versioned<String> compareAndSet(String key, int expectedVersion, String value) {
        Keys.validate(key);
        requireNonNull(value, "value");
        boolean[] refreshed = {false};
        View written = write(current -> {
            Versioned<String> now = current.entries().get(key);
            int actual = now == null ? -1 : now.version();
            if (actual != expectedVersion) {
                if (!refreshed[0]) {
                    // our copy may lag the ensemble: judge against the ensemble's own state once
                    refreshed[0] = true;
                    return null;
                }
                throw new VersionConflictException("config '" + name + "' key '" + key + "' is at version " + actual
                        + ", not " + expectedVersion + ": another client changed it first; re-read and retry");
            }
            Map<String, Versioned<String>> next = new TreeMap<>(current.entries());
            next.put(key, new Versioned<>(value, current.version() + 1));
            return next;
        });
        return written.entries().get(key);
    }

    /**
     * Removes {@code key}. A key this process's copy does not show yet (another client's put a
     * moment ago) is looked up on the ensemble before deciding.
     *
     * @return true if it was there
     */
    public boolean delete(String key) {
        Keys.validate(key);
        boolean[] present = {false};
        boolean[] refreshed = {false};
        write(current -> {
            present[0] = current.entries().containsKey(key);
            if (!present[0]) {
                if (!refreshed[0]) {
                    refreshed[0] = true;
                    return null;
                }
                return current.entries();
            }
            Map<String, Versioned<String>> next = new TreeMap<>(current.entries());
            next.remove(key);
            return next;
        });
        return present[0];
    }

    /**
     * Adds a listener for every later change; see {@link ConfigListener}.
     *
     * @return a handle whose {@code close()} removes the listener
     */
    public AutoCloseable addListener(ConfigListener listener) {
        requireNonNull(listener, "listener");
        lifecycle.checkStarted();
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    /** The store's name. */
    public String name() {
        return name;
    }

    /** Stops the cache and the listener thread. Idempotent. */
    @Override
    public void close() {
        if (lifecycle.close()) {
            ClientRecipes.closed(zk, this);
            cache.close();
            callbacks.close();
        }
    }

    // ---- machinery ----

    private interface Change {
        /** The entries after the change; the same map for no change; null to re-read and try again. */
        Map<String, Versioned<String>> apply(View current);
    }

    /**
     * Optimistic write: try against our copy, re-read the ensemble's on a conflict, repeat. Every
     * attempt carries a write id into the document; after an ambiguous outcome (a conflict that a
     * retried request of our own may have caused, a connection loss) the document is read back and
     * our id there means the write was applied.
     */
    private View write(Change change) {
        lifecycle.checkStarted();
        View base = view;
        for (int attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
            Map<String, Versioned<String>> next = change.apply(base);
            if (next == null) {
                base = readFromEnsemble();
                continue;
            }
            if (next == base.entries()) {
                return base;
            }
            // 64 random bits, short: the document carries the last 16 of them to every reader
            String writeId = Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36);
            ConfigDocument document = base.document().next(next, writeId);
            byte[] data = document.encode();
            PayloadLimit.check(zk, data, "config store '" + name + "' after this write");
            try {
                Stat stat = new Stat();
                if (base.version() < 0) {
                    // persistent parents, not containers: a parent may be another store ('billing' above
                    // 'billing/eu'), and the server reaps an empty container with its data
                    curator.create().creatingParentsIfNeeded().storingStatIn(stat).forPath(path, data);
                } else {
                    stat = curator.setData().withVersion(base.version()).forPath(path, data);
                }
                View written = new View(document, stat.getCzxid(), stat.getVersion());
                apply(written);
                return written;
            } catch (KeeperException.BadVersionException | KeeperException.NodeExistsException
                    | KeeperException.NoNodeException raced) {
                // a conflict, or our own write applied and then retried by Curator after a lost reply
                View fresh = readFromEnsemble();
                if (applied(fresh, base, writeId)) {
                    return fresh;
                }
                base = fresh;
            } catch (KeeperException.ConnectionLossException | KeeperException.OperationTimeoutException e) {
                return readBackAfterConnectionLoss(base, writeId, e);
            } catch (Exception e) {
                throw ZkErrors.translate(curator, e, "writing config store '" + name + "'");
            }
        }
        throw new VersionConflictException("config store '" + name + "' lost " + MAX_WRITE_ATTEMPTS
                + " write races in a row; too many writers at once");
    }

    /**
     * True if {@code fresh} shows the write {@code writeId} made on top of {@code base}.
     *
     * @throws ConnectionLossException if so many writes landed since that the id may have scrolled
     *         out of the document's history: the outcome cannot be told
     */
    private boolean applied(View fresh, View base, String writeId) {
        if (fresh.document().writes().contains(writeId)) {
            return true;
        }
        boolean sameNode = base.version() < 0 || fresh.czxid() == base.czxid();
        if (sameNode && fresh.version() - Math.max(base.version(), -1) > ConfigDocument.WRITE_HISTORY) {
            throw new ConnectionLossException("writing config store '" + name + "': more than "
                    + ConfigDocument.WRITE_HISTORY + " writes landed while this one's reply was in doubt; the outcome"
                    + " is unknown: re-read before acting", null);
        }
        return false;
    }

    /** Curator gave up: the write may or may not have landed. Read back once to tell, else say unknown. */
    private View readBackAfterConnectionLoss(View base, String writeId, Exception cause) {
        View fresh;
        try {
            fresh = readFromEnsemble();
        } catch (NotAuthorizedException refused) {
            // refused now, but the write may have landed before: still unknown, and said why
            ConnectionLossException unknown = new ConnectionLossException("writing config store '" + name + "': the"
                    + " connection was lost, and the ensemble now refuses this client (" + refused.getMessage() + ")."
                    + " The outcome is unknown: the write may or may not have been applied; re-read once the client"
                    + " is served", cause);
            unknown.addSuppressed(refused);
            throw unknown;
        } catch (RuntimeException unreachable) {
            throw new ConnectionLossException("writing config store '" + name + "': the connection was lost and the"
                    + " retry policy gave up. The outcome is unknown: the write may or may not have been applied;"
                    + " re-read before acting", cause);
        }
        if (applied(fresh, base, writeId)) {
            return fresh;
        }
        throw new ConnectionLossException("writing config store '" + name + "': the connection was lost and the retry"
                + " policy gave up; the store was read back and the write was not applied", cause);
    }

    private View readFromEnsemble() {
        try {
            Stat stat = new Stat();
            byte[] data = curator.getData().storingStatIn(stat).forPath(path);
            return applyRead(data, stat);
        } catch (KeeperException.NoNodeException e) {
            return View.ABSENT;
        } catch (Exception e) {
            throw ZkErrors.translate(curator, e, "reading config store '" + name + "'");
        }
    }

    /** What a read of the node found, decoded and applied to the local copy (the read was allowed). */
    private View applyRead(byte[] data, Stat stat) {
        View fresh = new View(decode(data), stat.getCzxid(), stat.getVersion());
        refusals.clear();
        apply(fresh);
        return fresh;
    }

    /** Decodes, keeping track of whether the node is readable; a CorruptDataException goes to the caller. */
    private ConfigDocument decode(byte[] data) {
        try {
            ConfigDocument document = ConfigDocument.decode(data, path);
            unreadable = null;
            return document;
        } catch (CorruptDataException e) {
            reportUnreadable(e);
            throw e;
        }
    }

    private void reportUnreadable(CorruptDataException e) {
        CorruptDataException before = unreadable;
        unreadable = e;
        if (before == null || !before.getMessage().equals(e.getMessage())) {
            LOG.error("config store '{}': {}", name, e.getMessage());
            for (ConfigListener l : listeners) {
                callbacks.execute(() -> l.unreadable(e));
            }
        }
    }

    private void applyData(ChildData data) {
        if (data == null || data.getStat() == null) {
            return;
        }
        refusals.clear();
        ConfigDocument document;
        try {
            document = decode(data.getData());
        } catch (CorruptDataException e) {
            // keep serving the last good copy; writes are refused until the node is readable again
            return;
        }
        apply(new View(document, data.getStat().getCzxid(), data.getStat().getVersion()));
    }

    private synchronized void applyDeleted(ChildData old) {
        unreadable = null;
        if (old != null && old.getStat() != null && old.getStat().getCzxid() == view.czxid()) {
            publish(View.ABSENT);
        }
    }

    /** Takes {@code next} if it is newer than what we have: same znode and higher version, or a newer znode. */
    private synchronized void apply(View next) {
        View current = view;
        boolean newer = next.czxid() == current.czxid() ? next.version() > current.version() : next.czxid() > current.czxid();
        if (newer) {
            publish(next);
        }
    }

    private void publish(View next) {
        View before = view;
        view = next;
        TreeSet<String> keys = new TreeSet<>(before.entries().keySet());
        keys.addAll(next.entries().keySet());
        int changed = 0;
        for (String key : keys) {
            Versioned<String> was = before.entries().get(key);
            Versioned<String> now = next.entries().get(key);
            String oldValue = was == null ? null : was.value();
            String newValue = now == null ? null : now.value();
            if (!Objects.equals(oldValue, newValue)) {
                changed++;
                ConfigChange change = new ConfigChange(key, Optional.ofNullable(oldValue), Optional.ofNullable(newValue));
                for (ConfigListener l : listeners) {
                    callbacks.execute(() -> l.changed(change));
                }
            }
        }
        if (changed > 0) {
            metrics.storeChanged(name, changed);
        }
    }

    private <T> T parse(String key, String value, String what, java.util.function.Function<String, T> parser) {
        try {
            return parser.apply(value.trim());
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("config '" + name + "' key '" + key + "' is '" + value + "', not " + what, e);
        }
    }
}
