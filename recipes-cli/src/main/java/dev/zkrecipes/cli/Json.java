package dev.zkrecipes.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.zkrecipes.config.FileMetadata;
import dev.zkrecipes.config.Versioned;
import dev.zkrecipes.election.Participant;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;

/** The {@code --json} output of read commands: one JSON document on one line, for scripts. */
final class Json {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {
    }

    static void print(PrintWriter out, Object value) {
        try {
            out.println(MAPPER.writeValueAsString(value));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON: " + e.getMessage(), e);
        }
    }

    static Map<String, Object> participant(Participant p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", p.id());
        m.put("token", p.token().value());
        m.put("data", p.dataAsString());
        return m;
    }

    static Map<String, Object> metadata(String path, Versioned<FileMetadata> v) {
        FileMetadata f = v.value();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("path", path);
        m.put("type", f.isDirectory() ? "directory" : "file");
        m.put("size", f.size());
        m.put("checksum", f.checksum().orElse(null));
        m.put("owner", f.owner().orElse(null));
        m.put("modified", f.modified().map(Object::toString).orElse(null));
        m.put("replicas", f.replicas());
        m.put("attributes", f.attributes());
        m.put("version", v.version());
        return m;
    }
}
