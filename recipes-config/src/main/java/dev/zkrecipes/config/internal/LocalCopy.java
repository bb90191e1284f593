package dev.zkrecipes.config.internal;

import dev.zkrecipes.core.ConnectionLossException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;

/** Starts a store's {@link CuratorCache} and waits until it holds what the ensemble has. */
public final class LocalCopy {

    private LocalCopy() {
    }

    /**
     * Adds {@code onChange}, starts {@code cache} and waits for its first full read.
     *
     * @throws ConnectionLossException after running {@code onFailure}, if the read took longer than {@code timeout}
     */
    public static void start(CuratorCache cache, CuratorCacheListener onChange, Duration timeout, String description,
            Runnable onFailure) throws InterruptedException {
        CountDownLatch initialized = new CountDownLatch(1);
        cache.listenable().addListener(onChange);
        cache.listenable().addListener(CuratorCacheListener.builder().forInitialized(initialized::countDown).build());
        cache.start();
        if (!initialized.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            onFailure.run();
            throw new ConnectionLossException(description + " could not be read within " + timeout
                    + "; check the ensemble is reachable", null);
        }
    }
}
