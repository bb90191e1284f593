package dev.zkrecipes.queue;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;

/** Ready-made {@link Serializer}s. */
public final class Serializers {

    private static final ObjectMapper JSON = new ObjectMapper().findAndRegisterModules();

    private Serializers() {
    }

    /** Strings as UTF-8. */
    public static Serializer<String> utf8() {
        return new Serializer<>() {
            @Override
            public byte[] serialize(String payload) {
                return payload.getBytes(StandardCharsets.UTF_8);
            }

            @Override
            public String deserialize(byte[] bytes) {
                return new String(bytes, StandardCharsets.UTF_8);
            }
        };
    }

    /** Bytes as they are (copied). */
    public static Serializer<byte[]> bytes() {
        return new Serializer<>() {
            @Override
            public byte[] serialize(byte[] payload) {
                return payload.clone();
            }

            @Override
            public byte[] deserialize(byte[] bytes) {
                return bytes.clone();
            }
        };
    }

    /** Objects of {@code type} as JSON, with Jackson. */
    public static <T> Serializer<T> json(Class<T> type) {
        requireNonNull(type, "type");
        return new Serializer<>() {
            @Override
            public byte[] serialize(T payload) throws Exception {
                return JSON.writeValueAsBytes(payload);
            }

            @Override
            public T deserialize(byte[] bytes) throws Exception {
                return JSON.readValue(bytes, type);
            }
        };
    }
}
