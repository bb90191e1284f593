package dev.zkrecipes.queue;

import java.time.Instant;
import java.util.Optional;

/**
 * One task being handled right now, as operators see it: which task, by which consumer (the id set
 * with {@code TaskQueue.Builder.consumerId}, by default {@code host:pid}), since when. Both are
 * empty for a claim written by another tool or an older version.
 *
 * @param taskId the task's id
 * @param consumer who holds the claim
 * @param since when the claim was taken (the consumer's clock)
 */
public record ClaimInfo(String taskId, Optional<String> consumer, Optional<Instant> since) {
}
