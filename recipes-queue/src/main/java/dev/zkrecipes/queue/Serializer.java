package dev.zkrecipes.queue;

/**
 * Turns payloads into bytes and back. Implementations must be thread-safe. See {@link Serializers}
 * for UTF-8 strings, raw bytes and JSON.
 */
public interface Serializer<T> {

    /** The bytes to store for {@code payload}; a throw becomes a {@code SerializationException} and nothing is sent. */
    byte[] serialize(T payload) throws Exception;

    /** The payload stored as {@code bytes}; a throw becomes a {@code SerializationException} and the task is released. */
    T deserialize(byte[] bytes) throws Exception;
}
