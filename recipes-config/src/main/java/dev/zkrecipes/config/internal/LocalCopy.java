package dev.zkrecipes.config.internal;

import dev.zkrecipes.core.ConnectionLossException;
import dev.zkrecipes.core.NotAuthorizedException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.zookeeper.KeeperException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Starts a store's {@link CuratorCache} and waits until it holds what the ensemble has. */
public final class LocalCopy {

    private static final Logger LOG = LoggerFactory.getLogger(LocalCopy.class);

    private LocalCopy() {
    }

    /**
     * Builds the cache of {@code path}: a read the ensemble refuses for lack of rights (NOAUTH) is
     * kept in {@code refusals} instead of only logged, so that the store can throw it.
     */
    public static CuratorCache build(CuratorFramework curator, String path, Refusals refusals, CuratorCache.Options... options) {
        return CuratorCache.builder(curator, path).withOptions(options).withExceptionHandler(refusals).build();
    }

    /**
     * Adds {@code onChange}, starts {@code cache} and waits for its first full read.
     *
     * @throws NotAuthorizedException after running {@code onFailure}, if the ensemble refused a read
     *         of the first full read for lack of rights
     * @throws ConnectionLossException after running {@code onFailure}, if the read took longer than {@code timeout}
     * @throws InterruptedException after running {@code onFailure}, if interrupted while waiting
     */
    public static void start(CuratorCache cache, CuratorCacheListener onChange, Duration timeout, String description,
            Refusals refusals, Runnable onFailure) throws InterruptedException {
        CountDownLatch initialized = new CountDownLatch(1);
        cache.listenable().addListener(onChange);
        cache.listenable().addListener(CuratorCacheListener.builder().forInitialized(initialized::countDown).build());
        cache.start();
        boolean read;
        try {
            read = initialized.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            onFailure.run();
            throw e;
        }
        if (!read) {
            onFailure.run();
            NotAuthorizedException refused = refusals.refused();
            if (refused != null) {
                throw refused;
            }
            throw new ConnectionLossException(description + " could not be read within " + timeout
                    + "; check the ensemble is reachable", null);
        }
        NotAuthorizedException refused = refusals.refused();
        if (refused != null) {
            // the cache skips what it may not read: an empty or partial copy, never to be served
            onFailure.run();
            throw refused;
        }
    }

    /**
     * The reads a store's cache was refused in the background (ZooKeeper's NOAUTH): the cache would
     * otherwise only log them and serve an empty or partial copy. The store throws
     * {@link #refused()} from its next call; other cache errors are logged as before.
     */
    public static final class Refusals implements Consumer<Exception> {
        private final String description;
        private volatile NotAuthorizedException refused;

        /** @param description the store and its path, e.g. {@code config store 'billing' (/zkr/config/billing)} */
        public Refusals(String description) {
            this.description = description;
        }

        @Override
        public void accept(Exception e) {
            if (e instanceof KeeperException.NoAuthException) {
                if (refused == null) {
                    LOG.error("{}: the ensemble refused a read for lack of rights (NOAUTH); the store refuses every"
                            + " call until it can read again", description);
                }
                refused = new NotAuthorizedException("not authorized to read " + description + ": its ACL does not"
                        + " grant this client's identity READ; check the digestAuth credentials, or have the store's"
                        + " owner grant read through ZkRecipes.Builder.aclProvider", e);
            } else {
                LOG.error("{}: the local copy could not be updated", description, e);
            }
        }

        /** The refusal seen, or null. */
        public NotAuthorizedException refused() {
            return refused;
        }

        /**
         * Throws the refusal seen, if any, as a fresh exception with the caller's stack.
         *
         * @throws NotAuthorizedException if a read of the cache was refused and none succeeded since
         */
        public void check() {
            NotAuthorizedException r = refused;
            if (r != null) {
                throw new NotAuthorizedException(r.getMessage(), r);
            }
        }

        /** A read succeeded again (the ACL was changed): forget the refusal. */
        public void clear() {
            refused = null;
        }
    }
}
