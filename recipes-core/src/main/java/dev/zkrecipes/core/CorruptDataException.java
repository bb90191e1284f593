package dev.zkrecipes.core;

/**
 * A recipe's node holds data this library cannot read: written by another tool, by hand, or by a
 * newer version of zk-recipes. The data is never served as if it were valid, and never overwritten
 * by a write that could not read it first. What to do: look at the node named in the message, and
 * repair or delete it (or upgrade zk-recipes if it was written by a newer version).
 */
public class CorruptDataException extends ZkRecipeException {
    private static final long serialVersionUID = 1L;

    public CorruptDataException(String message) {
        super(message);
    }

    public CorruptDataException(String message, Throwable cause) {
        super(message, cause);
    }
}
