package dev.zkrecipes.core.internal;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The data of a participant's or holder's znode: who it is (an id) and what it tells observers
 * (opaque bytes). Layout: magic {@code 'z' 'k'}, format version 1, id length (2 bytes), id (UTF-8),
 * data. Nodes written by other tools decode with the node name as id and their raw bytes as data.
 */
public final class NodePayload {

    private static final byte MAGIC_0 = 'z';
    private static final byte MAGIC_1 = 'k';
    private static final byte VERSION = 1;
    private static final int HEADER = 5;
    /** Longest participant id accepted, in UTF-8 bytes. */
    public static final int MAX_ID_BYTES = 1024;

    private final String id;
    private final byte[] data;

    private NodePayload(String id, byte[] data) {
        this.id = id;
        this.data = data;
    }

    public String id() {
        return id;
    }

    public byte[] data() {
        return data.clone();
    }

    /**
     * Encodes an id and data.
     *
     * @throws IllegalArgumentException if the id is empty or longer than {@link #MAX_ID_BYTES}
     */
    public static byte[] encode(String id, byte[] data) {
        byte[] idBytes = id.getBytes(UTF_8);
        if (idBytes.length == 0 || idBytes.length > MAX_ID_BYTES) {
            throw new IllegalArgumentException("participant id '" + id + "' must be 1 to " + MAX_ID_BYTES
                    + " UTF-8 bytes, is " + idBytes.length);
        }
        return ByteBuffer.allocate(HEADER + idBytes.length + data.length)
                .put(MAGIC_0).put(MAGIC_1).put(VERSION).putShort((short) idBytes.length)
                .put(idBytes).put(data).array();
    }

    /** Decodes what {@link #encode} wrote; foreign data decodes as ({@code fallbackId}, raw bytes). */
    public static NodePayload decode(byte[] bytes, String fallbackId) {
        if (bytes == null) {
            return new NodePayload(fallbackId, new byte[0]);
        }
        if (bytes.length >= HEADER && bytes[0] == MAGIC_0 && bytes[1] == MAGIC_1 && bytes[2] == VERSION) {
            int idLength = ((bytes[3] & 0xff) << 8) | (bytes[4] & 0xff);
            if (HEADER + idLength <= bytes.length) {
                String id = new String(bytes, HEADER, idLength, UTF_8);
                return new NodePayload(id, Arrays.copyOfRange(bytes, HEADER + idLength, bytes.length));
            }
        }
        return new NodePayload(fallbackId, bytes.clone());
    }
}
