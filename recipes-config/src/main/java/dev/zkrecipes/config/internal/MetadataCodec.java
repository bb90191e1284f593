package dev.zkrecipes.config.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zkrecipes.config.FileMetadata;
import dev.zkrecipes.core.CorruptDataException;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * {@link FileMetadata} as JSON: {@code {"format":1,"type":"file","size":..,"checksum":..,"owner":..,
 * "modified":"2026-11-25T07:00:00Z","replicas":[..],"attributes":{..}}}. Unknown fields are ignored,
 * so a newer writer's additions do not break an older reader.
 */
public final class MetadataCodec {

    static final int FORMAT = 1;
    private static final ObjectMapper JSON = new ObjectMapper();

    private MetadataCodec() {
    }

    public static byte[] encode(FileMetadata m) {
        return encode(m, null);
    }

    /**
     * Encodes {@code m}, with the id of the write that stores it ({@code "write"}): a writer whose
     * reply was lost reads the entry back and recognises its own write by it.
     */
    public static byte[] encode(FileMetadata m, String writeId) {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        if (writeId != null) {
            root.put("write", writeId);
        }
        root.put("type", m.isDirectory() ? "dir" : "file");
        if (!m.isDirectory()) {
            root.put("size", m.size());
        }
        m.checksum().ifPresent(v -> root.put("checksum", v));
        m.owner().ifPresent(v -> root.put("owner", v));
        m.modified().ifPresent(v -> root.put("modified", v.toString()));
        if (!m.replicas().isEmpty()) {
            m.replicas().forEach(root.putArray("replicas")::add);
        }
        if (!m.attributes().isEmpty()) {
            ObjectNode attributes = root.putObject("attributes");
            m.attributes().forEach(attributes::put);
        }
        try {
            return JSON.writeValueAsBytes(root);
        } catch (IOException e) {
            throw new IllegalStateException("could not encode file metadata", e);
        }
    }

    /**
     * The data of a store's root: a directory marked with the store's name, so that stores whose
     * names nest ({@code warehouse}, {@code warehouse/eu}) can see each other and refuse to open.
     * Readers that do not know the mark read a plain directory.
     */
    public static byte[] storeRoot(String storeName) {
        try {
            ObjectNode root = (ObjectNode) JSON.readTree(encode(FileMetadata.directory()));
            root.put("store", storeName);
            return JSON.writeValueAsBytes(root);
        } catch (IOException e) {
            throw new IllegalStateException("could not encode a store root", e);
        }
    }

    /** The store name a store root's data carries, or null for any other entry. */
    public static String storeOf(byte[] data) {
        try {
            JsonNode root = data == null || data.length == 0 ? null : JSON.readTree(data);
            return root != null && root.hasNonNull("store") ? root.get("store").asText() : null;
        } catch (IOException e) {
            return null;
        }
    }

    /** The id of the write that stored {@code data}, or null (written without one, or unreadable). */
    public static String writeIdOf(byte[] data) {
        try {
            JsonNode root = data == null || data.length == 0 ? null : JSON.readTree(data);
            return root != null && root.hasNonNull("write") ? root.get("write").asText() : null;
        } catch (IOException e) {
            return null;
        }
    }

    /** {@code data} (readable metadata) with its write id replaced by {@code writeId}; other fields kept. */
    public static byte[] withWriteId(byte[] data, String path, String writeId) {
        decode(data, path);
        try {
            ObjectNode root = data == null || data.length == 0 ? (ObjectNode) JSON.readTree(encode(FileMetadata.directory()))
                    : (ObjectNode) JSON.readTree(data);
            root.put("write", writeId);
            return JSON.writeValueAsBytes(root);
        } catch (IOException e) {
            throw new IllegalStateException("could not re-encode the metadata of " + path, e);
        }
    }

    /**
     * Decodes what {@link #encode} wrote; fields this version does not know are ignored.
     *
     * @throws CorruptDataException if {@code data} is not file metadata this library can read
     */
    public static FileMetadata decode(byte[] data, String path) {
        if (data == null || data.length == 0) {
            return FileMetadata.directory();
        }
        JsonNode root;
        try {
            root = JSON.readTree(data);
        } catch (IOException e) {
            throw corrupt(path, "is not JSON", e);
        }
        if (root == null || !root.isObject()) {
            throw corrupt(path, "is not a JSON object", null);
        }
        JsonNode format = root.get("format");
        if (format == null || !format.isInt() || format.asInt() != FORMAT) {
            throw corrupt(path, "has format " + format + ", this library reads " + FORMAT, null);
        }
        String type = root.path("type").asText("");
        if (type.equals("dir")) {
            return FileMetadata.directory();
        }
        if (!type.equals("file") || !root.path("size").canConvertToLong()) {
            throw corrupt(path, "is neither a directory nor a file with a size", null);
        }
        try {
            FileMetadata.Builder b = FileMetadata.builder().size(root.path("size").asLong());
            if (root.hasNonNull("checksum")) {
                b.checksum(root.get("checksum").asText());
            }
            if (root.hasNonNull("owner")) {
                b.owner(root.get("owner").asText());
            }
            if (root.hasNonNull("modified")) {
                b.modified(Instant.parse(root.get("modified").asText()));
            }
            List<String> replicas = new ArrayList<>();
            root.path("replicas").forEach(r -> replicas.add(r.asText()));
            b.replicas(replicas);
            Iterator<Map.Entry<String, JsonNode>> it = root.path("attributes").fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                b.attribute(e.getKey(), e.getValue().asText());
            }
            return b.build();
        } catch (RuntimeException e) {
            throw corrupt(path, "has a field this library cannot read (" + e.getMessage() + ")", e);
        }
    }

    private static CorruptDataException corrupt(String path, String what, Throwable cause) {
        return new CorruptDataException("file metadata at " + path + " " + what + ": it is not zk-recipes file"
                + " metadata. It was neither used nor overwritten; repair or delete the node", cause);
    }
}
