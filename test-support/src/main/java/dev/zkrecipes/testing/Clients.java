package dev.zkrecipes.testing;

import dev.zkrecipes.core.ZkRecipes;
import java.time.Duration;
import org.apache.curator.retry.RetryNTimes;

/** Started, connected {@link ZkRecipes} clients for tests. */
public final class Clients {

    private Clients() {
    }

    /** A client with the given session timeout, connected (or the call fails within 10 s). */
    public static ZkRecipes connect(String connectString, Duration sessionTimeout) {
        return connect(connectString, sessionTimeout, Duration.ofMillis(Math.min(5000, sessionTimeout.toMillis())));
    }

    /**
     * A client with the given session and connection timeouts (the latter bounds closing calls such
     * as resign, close and release), connected (or the call fails within 10 s).
     */
    public static ZkRecipes connect(String connectString, Duration sessionTimeout, Duration connectionTimeout) {
        ZkRecipes zk = ZkRecipes.builder()
                .connectString(connectString)
                .sessionTimeout(sessionTimeout)
                .connectionTimeout(connectionTimeout)
                // fault tests want operations to fail or wait, not to retry for long after the fault ends
                .retryPolicy(new RetryNTimes(20, 100))
                .build();
        zk.start();
        try {
            if (!zk.awaitConnected(Duration.ofSeconds(10))) {
                zk.close();
                throw new IllegalStateException("client did not connect to " + connectString + " within 10 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            zk.close();
            throw new IllegalStateException("interrupted while connecting", e);
        }
        return zk;
    }

    /** A client with a 15 s session (the library default). */
    public static ZkRecipes connect(String connectString) {
        return connect(connectString, Duration.ofSeconds(15));
    }
}
