package dev.zkrecipes.queue.internal;

import dev.zkrecipes.queue.ClaimInfo;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * What a claim node holds: {@code <token>\n<consumer>\n<epoch millis>}. The token (64 random bits)
 * is what tells our own claim from another's after an ambiguous outcome, so the whole data is
 * compared, never parsed, for that; consumer and time are for operators.
 */
final class ClaimNode {

    private ClaimNode() {
    }

    /** Fresh data for a claim by {@code consumerId}, taken now. */
    static byte[] newData(String consumerId) {
        return (Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36) + "\n" + consumerId + "\n"
                + System.currentTimeMillis()).getBytes(StandardCharsets.UTF_8);
    }

    /** The claim node {@code name} with {@code data} as operators see it; a foreign claim shows neither part. */
    static ClaimInfo info(String name, byte[] data) {
        String[] parts = data == null ? new String[0] : new String(data, StandardCharsets.UTF_8).split("\n", 3);
        Optional<String> consumer = parts.length >= 2 ? Optional.of(parts[1]) : Optional.empty();
        Optional<Instant> since = Optional.empty();
        if (parts.length == 3) {
            try {
                since = Optional.of(Instant.ofEpochMilli(Long.parseLong(parts[2].trim())));
            } catch (NumberFormatException foreign) {
                // not ours: left out
            }
        }
        return new ClaimInfo(name.replaceFirst("-", "/"), consumer, since);
    }
}
