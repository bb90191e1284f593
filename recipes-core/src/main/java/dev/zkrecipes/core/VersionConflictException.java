package dev.zkrecipes.core;

/**
 * A compare-and-set lost its race: the znode's version was no longer the expected one (another
 * client wrote first), so nothing was written. What to do: read the current value and version again
 * and decide whether to retry.
 */
public class VersionConflictException extends ZkRecipeException {
    private static final long serialVersionUID = 1L;

    public VersionConflictException(String message) {
        super(message);
    }

    public VersionConflictException(String message, Throwable cause) {
        super(message, cause);
    }
}
