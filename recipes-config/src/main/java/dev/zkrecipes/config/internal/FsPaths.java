package dev.zkrecipes.config.internal;

import static java.util.Objects.requireNonNull;

/** Validation of file-system paths: absolute, no empty, '.' or '..' segments, no control characters. */
public final class FsPaths {

    private FsPaths() {
    }

    public static String validate(String path) {
        requireNonNull(path, "path");
        if (!path.startsWith("/")) {
            throw new IllegalArgumentException("path '" + path + "' must be absolute, e.g. /raw/2026/11/a.parquet");
        }
        if (path.equals("/")) {
            return path;
        }
        if (path.endsWith("/")) {
            throw new IllegalArgumentException("path '" + path + "' ends with '/'");
        }
        for (String segment : path.substring(1).split("/", -1)) {
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
