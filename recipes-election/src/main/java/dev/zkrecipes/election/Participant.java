package dev.zkrecipes.election;

import static java.util.Objects.requireNonNull;

import dev.zkrecipes.core.FencingToken;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A participant of an election as the ensemble last reported it.
 *
 * @param id the participant's id
 * @param data what the participant published (the builder's {@code data}); a copy
 * @param token the czxid of its node: the fencing token of its term if it leads
 */
public record Participant(String id, byte[] data, FencingToken token) {

    public Participant {
        requireNonNull(id, "id");
        requireNonNull(token, "token");
        data = requireNonNull(data, "data").clone();
    }

    /** A copy of the published data. */
    @Override
    public byte[] data() {
        return data.clone();
    }

    /** The published data read as UTF-8. */
    public String dataAsString() {
        return new String(data, StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Participant p && id.equals(p.id) && token.equals(p.token) && Arrays.equals(data, p.data);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * id.hashCode() + token.hashCode()) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "Participant[id=" + id + ", token=" + token + ", data=" + data.length + " bytes]";
    }
}
