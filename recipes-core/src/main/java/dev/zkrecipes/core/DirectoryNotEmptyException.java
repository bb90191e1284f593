package dev.zkrecipes.core;

/**
 * Refused before anything changed: a directory still holds entries. What to do: delete its entries first, or ask for a recursive delete.
 */
public class DirectoryNotEmptyException extends ZkRecipeException {
    private static final long serialVersionUID = 1L;

    public DirectoryNotEmptyException(String message) {
        super(message);
    }

    public DirectoryNotEmptyException(String message, Throwable cause) {
        super(message, cause);
    }
}
