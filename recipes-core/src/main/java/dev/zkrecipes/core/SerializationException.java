package dev.zkrecipes.core;

/**
 * A payload could not be turned into bytes (nothing was sent), or bytes read back could not be
 * turned into a payload. What to do: check the serializer matches the payload type on both ends.
 */
public class SerializationException extends ZkRecipeException {
    private static final long serialVersionUID = 1L;

    public SerializationException(String message, Throwable cause) {
        super(message, cause);
    }
}
