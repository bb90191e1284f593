package dev.zkrecipes.config.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zkrecipes.config.Versioned;
import dev.zkrecipes.core.CorruptDataException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The whole of one config store, as stored in its znode: {@code {"format":1,"entries":{"key":
 * {"value":"...","version":3}},"writes":["<id>",...]}}. One znode per store is what makes a
 * multi-key write atomic for every reader: ZooKeeper replaces a znode's data in one step.
 *
 * <p>{@code writes} holds the ids of the last {@link #WRITE_HISTORY} writes, newest last: a writer
 * whose reply was lost reads the document back and finds its own id there, so an applied write is
 * never reported as a conflict.
 *
 * <p>Decoding is strict: anything but this exact shape is a {@link CorruptDataException}, never a
 * store with made-up values.
 */
public final class ConfigDocument {

    static final int FORMAT = 1;
    /** How many write ids a document remembers. */
    public static final int WRITE_HISTORY = 16;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Map<String, Versioned<String>> entries;
    private final List<String> writes;

    private ConfigDocument(Map<String, Versioned<String>> entries, List<String> writes) {
        this.entries = entries;
        this.writes = writes;
    }

    /** The empty document of a store that was never written. */
    public static final ConfigDocument EMPTY = new ConfigDocument(Map.of(), List.of());

    public Map<String, Versioned<String>> entries() {
        return entries;
    }

    public List<String> writes() {
        return writes;
    }

    /** The document after a write with id {@code writeId} that leaves {@code next} as the entries. */
    public ConfigDocument next(Map<String, Versioned<String>> next, String writeId) {
        List<String> ids = new ArrayList<>(writes);
        ids.add(writeId);
        while (ids.size() > WRITE_HISTORY) {
            ids.remove(0);
        }
        return new ConfigDocument(Collections.unmodifiableMap(new TreeMap<>(next)), List.copyOf(ids));
    }

    public byte[] encode() {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        ObjectNode all = root.putObject("entries");
        for (Map.Entry<String, Versioned<String>> e : entries.entrySet()) {
            ObjectNode entry = all.putObject(e.getKey());
            entry.put("value", e.getValue().value());
            entry.put("version", e.getValue().version());
        }
        ArrayNode ids = root.putArray("writes");
        writes.forEach(ids::add);
        try {
            return JSON.writeValueAsBytes(root);
        } catch (IOException e) {
            throw new IllegalStateException("could not encode a config document", e);
        }
    }

    /**
     * Decodes a document; empty data (a node made by hand) is an empty store.
     *
     * @throws CorruptDataException if {@code data} is not a config document this library can read
     */
    public static ConfigDocument decode(byte[] data, String path) {
        if (data == null || data.length == 0) {
            return EMPTY;
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
        if (format == null || !format.isInt()) {
            throw corrupt(path, "has no format number", null);
        }
        if (format.asInt() != FORMAT) {
            throw corrupt(path, "has format " + format.asInt() + ", this library reads " + FORMAT
                    + " (written by a newer zk-recipes? upgrade)", null);
        }
        JsonNode all = root.get("entries");
        if (all == null || !all.isObject()) {
            throw corrupt(path, "has no \"entries\" object", null);
        }
        Map<String, Versioned<String>> entries = new TreeMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = all.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode value = e.getValue().get("value");
            JsonNode version = e.getValue().get("version");
            if (value == null || !value.isTextual() || version == null || !version.isInt()) {
                throw corrupt(path, "has entry '" + e.getKey() + "' without a text value and an int version", null);
            }
            entries.put(e.getKey(), new Versioned<>(value.asText(), version.asInt()));
        }
        List<String> writes = new ArrayList<>();
        JsonNode ids = root.get("writes");
        if (ids != null) {
            if (!ids.isArray()) {
                throw corrupt(path, "has a \"writes\" field that is not a list", null);
            }
            ids.forEach(id -> writes.add(id.asText()));
        }
        return new ConfigDocument(Collections.unmodifiableMap(entries), List.copyOf(writes));
    }

    private static CorruptDataException corrupt(String path, String what, Throwable cause) {
        return new CorruptDataException("config node " + path + " " + what + ": it is not a zk-recipes config document."
                + " It was neither used nor overwritten; repair or delete the node", cause);
    }
}
