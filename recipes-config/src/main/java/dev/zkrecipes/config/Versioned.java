package dev.zkrecipes.config;

import static java.util.Objects.requireNonNull;

/**
 * A value with the version that {@code compareAndSet} and {@code update} expect: a later write
 * of the same entry always has a higher version.
 *
 * @param value the value
 * @param version for a {@link FileMetadataStore} entry, its znode's data version; for a
 *        {@link ConfigStore} key, the data version of the store's znode as of the write that last
 *        changed this key
 */
public record Versioned<T>(T value, int version) {

    public Versioned {
        requireNonNull(value, "value");
    }
}
