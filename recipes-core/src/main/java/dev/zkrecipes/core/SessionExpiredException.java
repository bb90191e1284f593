package dev.zkrecipes.core;

/**
 * The ZooKeeper session expired while the operation ran: every ephemeral node of the session
 * (leadership terms, lock nodes, queue claims) is gone. The client opens a new session by itself;
 * recipes rejoin or must be re-acquired. What to do: treat anything held as lost and start over.
 */
public class SessionExpiredException extends ZkRecipeException {
    private static final long serialVersionUID = 1L;

    public SessionExpiredException(String message, Throwable cause) {
        super(message, cause);
    }
}
