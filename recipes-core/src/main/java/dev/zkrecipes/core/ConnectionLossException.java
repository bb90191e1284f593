package dev.zkrecipes.core;

/**
 * The connection to ZooKeeper was lost and the retry policy gave up before the operation could
 * complete. The outcome of a write is then unknown: it may or may not have been applied. What to do:
 * check the ensemble is reachable, then re-read state before retrying a non-idempotent write.
 */
public class ConnectionLossException extends ZkRecipeException {
    private static final long serialVersionUID = 1L;

    public ConnectionLossException(String message, Throwable cause) {
        super(message, cause);
    }
}
