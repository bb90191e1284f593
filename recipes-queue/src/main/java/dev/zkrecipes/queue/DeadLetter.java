package dev.zkrecipes.queue;

import java.time.Instant;

/**
 * A task that was delivered {@code attempts} times without being acknowledged, and is no longer
 * delivered. It stays readable (and deletable) through {@link TaskQueue#deadLetters(int)}.
 *
 * @param id the task's id
 * @param payload the payload's bytes (deserialize with the queue's serializer)
 * @param attempts how many times it was delivered
 * @param enqueuedAt when it was first put
 */
public record DeadLetter(String id, byte[] payload, int attempts, Instant enqueuedAt) {

    public DeadLetter {
        payload = payload.clone();
    }

    @Override
    public byte[] payload() {
        return payload.clone();
    }
}
