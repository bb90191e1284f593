package dev.zkrecipes.core;

/**
 * Refused before anything changed: the path goes through a file where a directory is needed. What to do: choose a path under a directory.
 */
public class NotADirectoryException extends ZkRecipeException {
    private static final long serialVersionUID = 1L;

    public NotADirectoryException(String message) {
        super(message);
    }

    public NotADirectoryException(String message, Throwable cause) {
        super(message, cause);
    }
}
