package dev.zkrecipes.config.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zkrecipes.config.FileMetadata;
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
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
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

    public static FileMetadata decode(byte[] data, String path) {
        if (data == null || data.length == 0) {
            return FileMetadata.directory();
        }
        try {
            JsonNode root = JSON.readTree(data);
            int format = root.path("format").asInt(-1);
            if (format < 1) {
                throw new IllegalStateException(path + " does not hold zk-recipes file metadata");
            }
            if (root.path("type").asText().equals("dir")) {
                return FileMetadata.directory();
            }
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
        } catch (IOException e) {
            throw new IllegalStateException(path + " does not hold zk-recipes file metadata", e);
        }
    }
}
