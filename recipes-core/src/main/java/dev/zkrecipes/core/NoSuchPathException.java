package dev.zkrecipes.core;

/**
 * Refused before anything changed: the path, or a parent it needs, does not exist. What to do: create the parent first (or use a call that creates parents), or re-read the tree.
 */
public class NoSuchPathException extends ZkRecipeException {
    private static final long serialVersionUID = 1L;

    public NoSuchPathException(String message) {
        super(message);
    }

    public NoSuchPathException(String message, Throwable cause) {
        super(message, cause);
    }
}
