package dev.zkrecipes.config;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What a {@link FileMetadataStore} knows of one file or directory: size, checksum, owner, modified
 * time, replica locations and free-form attributes. Immutable; build one with {@link #builder()},
 * change one with {@link #toBuilder()}. Stored as JSON with a format version, so that later
 * versions can add fields and still read what earlier ones wrote.
 */
public final class FileMetadata {

    private final boolean directory;
    private final long size;
    private final String checksum;
    private final String owner;
    private final Instant modified;
    private final List<String> replicas;
    private final Map<String, String> attributes;

    private FileMetadata(Builder b) {
        this.directory = b.directory;
        this.size = b.size;
        this.checksum = b.checksum;
        this.owner = b.owner;
        this.modified = b.modified;
        this.replicas = List.copyOf(b.replicas);
        this.attributes = Map.copyOf(b.attributes);
    }

    /** A builder for a file entry; every field optional, size 0 by default. */
    public static Builder builder() {
        return new Builder();
    }

    /** The metadata of a directory (no size, no checksum). */
    public static FileMetadata directory() {
        Builder b = new Builder();
        b.directory = true;
        return b.build();
    }

    /** A builder holding this metadata, to derive a changed copy. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.directory = directory;
        b.size = size;
        b.checksum = checksum;
        b.owner = owner;
        b.modified = modified;
        b.replicas = List.copyOf(replicas);
        b.attributes = new LinkedHashMap<>(attributes);
        return b;
    }

    /** True for a directory entry. */
    public boolean isDirectory() {
        return directory;
    }

    /** Size in bytes; 0 for a directory. */
    public long size() {
        return size;
    }

    /** The checksum, e.g. {@code sha256:...}, if one was given. */
    public Optional<String> checksum() {
        return Optional.ofNullable(checksum);
    }

    /** The owner, if one was given. */
    public Optional<String> owner() {
        return Optional.ofNullable(owner);
    }

    /** The modification time, if one was given. */
    public Optional<Instant> modified() {
        return Optional.ofNullable(modified);
    }

    /** Where the file's replicas live (hosts, URLs); in order. */
    public List<String> replicas() {
        return replicas;
    }

    /** Free-form attributes; immutable. */
    public Map<String, String> attributes() {
        return attributes;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FileMetadata m && directory == m.directory && size == m.size
                && Objects.equals(checksum, m.checksum) && Objects.equals(owner, m.owner)
                && Objects.equals(modified, m.modified) && replicas.equals(m.replicas) && attributes.equals(m.attributes);
    }

    @Override
    public int hashCode() {
        return Objects.hash(directory, size, checksum, owner, modified, replicas, attributes);
    }

    @Override
    public String toString() {
        return directory ? "FileMetadata[directory]" : "FileMetadata[size=" + size + ", checksum=" + checksum
                + ", owner=" + owner + ", modified=" + modified + ", replicas=" + replicas + ", attributes=" + attributes + "]";
    }

    /** Builds {@link FileMetadata}; every field is optional. */
    public static final class Builder {
        private boolean directory;
        private long size;
        private String checksum;
        private String owner;
        private Instant modified;
        private List<String> replicas = List.of();
        private Map<String, String> attributes = new LinkedHashMap<>();

        private Builder() {
        }

        /** @throws IllegalArgumentException if negative */
        public Builder size(long size) {
            if (size < 0) {
                throw new IllegalArgumentException("size must not be negative, got " + size);
            }
            this.size = size;
            return this;
        }

        /** @throws NullPointerException if {@code checksum} is null */
        public Builder checksum(String checksum) {
            this.checksum = requireNonNull(checksum, "checksum");
            return this;
        }

        /** @throws NullPointerException if {@code owner} is null */
        public Builder owner(String owner) {
            this.owner = requireNonNull(owner, "owner");
            return this;
        }

        /** @throws NullPointerException if {@code modified} is null */
        public Builder modified(Instant modified) {
            this.modified = requireNonNull(modified, "modified");
            return this;
        }

        /** Replaces the replica locations (copied); a null list or element is refused with NullPointerException. */
        public Builder replicas(List<String> replicas) {
            this.replicas = List.copyOf(requireNonNull(replicas, "replicas"));
            return this;
        }

        /** Adds one attribute; a null key or value is refused with NullPointerException. */
        public Builder attribute(String key, String value) {
            attributes.put(requireNonNull(key, "key"), requireNonNull(value, "value"));
            return this;
        }

        /** The immutable metadata; nothing is sent anywhere. */
        public FileMetadata build() {
            return new FileMetadata(this);
        }
    }
}
