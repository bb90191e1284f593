package dev.zkrecipes.config;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * A change below a watched path of a {@link FileMetadataStore}.
 *
 * @param type what happened
 * @param path the file or directory, absolute within the store (e.g. {@code /raw/2026/11/a.parquet})
 * @param metadata the metadata after the change; empty for {@link Type#DELETED}
 */
public record FileEvent(Type type, String path, Optional<FileMetadata> metadata) {

    /** The kinds of change. */
    public enum Type { CREATED, UPDATED, DELETED }

    public FileEvent {
        requireNonNull(type, "type");
        requireNonNull(path, "path");
        requireNonNull(metadata, "metadata");
    }
}
