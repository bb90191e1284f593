package dev.zkrecipes.config.internal;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;

/** Validation of file-system paths: absolute, no empty, '.' or '..' segments, no control characters. */
public final class FsPaths {

    private FsPaths() {
    }

    /** Longest path accepted, in UTF-8 bytes: far below ZooKeeper's request limit, with room for the store's prefix. */
    public static final int MAX_PATH_BYTES = 1024;
    /** Deepest path accepted: a create makes every missing parent in one transaction. */
    public static final int MAX_DEPTH = 64;

    public static String validate(String path) {
        requireNonNull(path, "path");
        int bytes = path.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_PATH_BYTES) {
            throw new IllegalArgumentException("path '" + abbreviate(path) + "' is " + bytes + " UTF-8 bytes long; the"
                    + " limit is " + MAX_PATH_BYTES);
        }
        if (!path.startsWith("/")) {
            throw new IllegalArgumentException("path '" + path + "' must be absolute, e.g. /raw/2026/11/a.parquet");
        }
        if (path.equals("/")) {
            return path;
        }
        if (path.endsWith("/")) {
            throw new IllegalArgumentException("path '" + path + "' ends with '/'");
        }
        String[] segments = path.substring(1).split("/", -1);
        if (segments.length > MAX_DEPTH) {
            throw new IllegalArgumentException("path '" + abbreviate(path) + "' is " + segments.length
                    + " levels deep; the limit is " + MAX_DEPTH);
        }
        for (String segment : segments) {
            if (segment.isEmpty()) {
                throw new IllegalArgumentException("path '" + path + "' has an empty segment ('//')");
            }
            if (segment.equals(".") || segment.equals("..")) {
                throw new IllegalArgumentException("path '" + path + "' has a '" + segment + "' segment; use the plain path");
            }
            for (int i = 0; i < segment.length(); i++) {
                char c = segment.charAt(i);
                if (Character.isISOControl(c) || (c >= '\ud800' && c <= '\uf8ff') || c >= '\ufff0') {
                    throw new IllegalArgumentException("path '" + path + "' holds an unsupported character U+"
                            + String.format("%04X", (int) c));
                }
            }
        }
        return path;
    }

    private static String abbreviate(String path) {
        return path.length() <= 80 ? path : path.substring(0, 60) + "..." + path.substring(path.length() - 15);
    }

    /** The parent of a validated path ("/" for top-level entries). */
    public static String parent(String path) {
        int i = path.lastIndexOf('/');
        return i <= 0 ? "/" : path.substring(0, i);
    }

    /** True if {@code path} is {@code ancestor} or below it. */
    public static boolean isAtOrBelow(String path, String ancestor) {
        return ancestor.equals("/") || path.equals(ancestor) || path.startsWith(ancestor + "/");
    }
}
