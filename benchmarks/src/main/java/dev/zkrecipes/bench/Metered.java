package dev.zkrecipes.bench;

import dev.zkrecipes.core.ZkRecipes;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;

/** A client like {@code Clients.connect} but reporting to a Micrometer registry: what metrics cost. */
final class Metered {

    private Metered() {
    }

    static ZkRecipes connect(String connectString) {
        ZkRecipes zk = ZkRecipes.builder().connectString(connectString).meterRegistry(new SimpleMeterRegistry()).build();
        zk.start();
        try {
            if (!zk.awaitConnected(Duration.ofSeconds(10))) {
                zk.close();
                throw new IllegalStateException("client did not connect to " + connectString);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        return zk;
    }
}
