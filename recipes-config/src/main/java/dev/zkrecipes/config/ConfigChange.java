package dev.zkrecipes.config;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * One key's change in a {@link ConfigStore}.
 *
 * @param key the key
 * @param oldValue the value before, empty if the key was added
 * @param newValue the value after, empty if the key was deleted
 */
public record ConfigChange(String key, Optional<String> oldValue, Optional<String> newValue) {

    public ConfigChange {
        requireNonNull(key, "key");
        requireNonNull(oldValue, "oldValue");
        requireNonNull(newValue, "newValue");
    }
}
