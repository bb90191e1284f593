package dev.zkrecipes.config.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zkrecipes.config.Versioned;
import java.io.IOException;
import java.util.Collections;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;

/**
 * The whole of one config store, as stored in its znode: {@code {"format":1,"entries":{"key":
 * {"value":"...","version":3}}}}. One znode per store is what makes a multi-key write atomic for
 * every reader: ZooKeeper replaces a znode's data in one step.
 */
public final class ConfigDocument {

    static final int FORMAT = 1;
    private static final ObjectMapper JSON = new ObjectMapper();

    private ConfigDocument() {
    }

    public static byte[] encode(Map<String, Versioned<String>> entries) {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        ObjectNode all = root.putObject("entries");
        for (Map.Entry<String, Versioned<String>> e : entries.entrySet()) {
            ObjectNode entry = all.putObject(e.getKey());
            entry.put("value", e.getValue().value());
            entry.put("version", e.getValue().version());
        }
        try {
            return JSON.writeValueAsBytes(root);
        } catch (IOException e) {
            throw new IllegalStateException("could not encode a config document", e);
        }
    }

    /** Decodes a document; empty data (a node made by hand) is an empty store. */
    public static Map<String, Versioned<String>> decode(byte[] data, String path) {
        if (data == null || data.length == 0) {
            return Map.of();
        }
        try {
            JsonNode root = JSON.readTree(data);
            int format = root.path("format").asInt(-1);
            if (format != FORMAT) {
                throw new IllegalStateException("config node " + path + " has format " + format + ", this library reads "
                        + FORMAT + "; upgrade zk-recipes");
            }
            Map<String, Versioned<String>> entries = new TreeMap<>();
            Iterator<Map.Entry<String, JsonNode>> it = root.path("entries").fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                entries.put(e.getKey(), new Versioned<>(e.getValue().path("value").asText(), e.getValue().path("version").asInt()));
            }
            return Collections.unmodifiableMap(entries);
        } catch (IOException e) {
            throw new IllegalStateException("config node " + path + " does not hold a zk-recipes config document", e);
        }
    }
}
