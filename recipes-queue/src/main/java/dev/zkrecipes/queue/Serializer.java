package dev.zkrecipes.queue;

/**
 * Turns payloads into bytes and back. Implementations must be thread-safe. See {@link Serializers}
 * for UTF-8 strings, raw bytes and JSON.
 */
public interface Serializer<T> {

    byte[] serialize(T payload) throws Exception;

    T deserialize(byte[] bytes) throws Exception;
}
