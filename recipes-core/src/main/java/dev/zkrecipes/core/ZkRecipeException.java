package dev.zkrecipes.core;

/**
 * Root of every failure zk-recipes reports. Unchecked: callers catch the subtype they can act on
 * ({@link LeadershipLostException}, {@link VersionConflictException}, {@link PayloadTooLargeException},
 * {@link ConnectionLossException}, {@link SessionExpiredException}) and let the rest propagate.
 *
 * <p>Messages say what failed, on which path, and what the caller can do about it.
 */
public class ZkRecipeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ZkRecipeException(String message) {
        super(message);
    }

    public ZkRecipeException(String message, Throwable cause) {
        super(message, cause);
    }
}
