package dev.zkrecipes.core;

/**
 * Refused before anything changed: a create found the path already there (another client made it first, or it was made earlier). What to do: read what is there, or choose another path.
 */
public class AlreadyExistsException extends ZkRecipeException {
    private static final long serialVersionUID = 1L;

    public AlreadyExistsException(String message) {
        super(message);
    }

    public AlreadyExistsException(String message, Throwable cause) {
        super(message, cause);
    }
}
