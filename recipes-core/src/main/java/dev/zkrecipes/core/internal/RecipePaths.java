package dev.zkrecipes.core.internal;

import static java.util.Objects.requireNonNull;

import dev.zkrecipes.core.ZkRecipes;

/**
 * The layout of zk-recipes in ZooKeeper ({@code /zkr/<kind>/<name>}) and the validation of recipe
 * names. A name is one or more {@code /}-separated segments; each is non-empty, not {@code .} or
 * {@code ..}, and holds no control characters. Bad names fail here, before a byte is sent.
 */
public final class RecipePaths {

    /** Longest name accepted, in characters: far below ZooKeeper's path limits, long enough for keys. */
    public static final int MAX_NAME_LENGTH = 512;

    private RecipePaths() {
    }

    /** {@code /zkr/elections/<name>}. */
    public static String election(String name) {
        return of("elections", name);
    }

    /** {@code /zkr/locks/<name>}. */
    public static String lock(String name) {
        return of("locks", name);
    }

    /** {@code /zkr/queues/<name>}. */
    public static String queue(String name) {
        return of("queues", name);
    }

    /** Where config stores live: {@code /zkr/config}. */
    public static final String CONFIG_ROOT = ZkRecipes.ROOT + "/config";
    /** Where file stores live: {@code /zkr/fs}. */
    public static final String FS_ROOT = ZkRecipes.ROOT + "/fs";

    /** {@code /zkr/config/<name>}. */
    public static String config(String name) {
        return of("config", name);
    }

    /** {@code /zkr/fs/<name>}. */
    public static String fs(String name) {
        return of("fs", name);
    }

    /** {@code /zkr/<kind>/<name>} after validating {@code name}. */
    public static String of(String kind, String name) {
        return ZkRecipes.ROOT + "/" + kind + "/" + validateName(name);
    }

    /**
     * Returns {@code name} if it is a valid recipe name.
     *
     * @throws NullPointerException if name is null
     * @throws IllegalArgumentException quoting the name and saying what is wrong with it
     */
    public static String validateName(String name) {
        requireNonNull(name, "name");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("recipe name is empty; use e.g. \"scheduler\" or \"orders/42\"");
        }
        if (name.length() > MAX_NAME_LENGTH) {
            throw new IllegalArgumentException("recipe name '" + abbreviate(name) + "' is " + name.length()
                    + " characters, over the limit of " + MAX_NAME_LENGTH);
        }
        for (String segment : name.split("/", -1)) {
            validateSegment(name, segment);
        }
        return name;
    }

    private static void validateSegment(String name, String segment) {
        if (segment.isEmpty()) {
            throw new IllegalArgumentException("recipe name '" + name
                    + "' has an empty segment (leading, trailing or double '/'); use e.g. \"orders/42\"");
        }
        if (segment.equals(".") || segment.equals("..")) {
            throw new IllegalArgumentException("recipe name '" + name + "' has a '" + segment
                    + "' segment; relative segments are not allowed");
        }
        if (segment.equals("zookeeper")) {
            throw new IllegalArgumentException("recipe name '" + name + "' uses the reserved segment 'zookeeper'");
        }
        for (int i = 0; i < segment.length(); i++) {
            char c = segment.charAt(i);
            if (Character.isISOControl(c) || (c >= '\ud800' && c <= '\uf8ff') || (c >= '\ufff0' && c <= '\uffff')) {
                throw new IllegalArgumentException("recipe name '" + escape(name) + "' holds a control or"
                        + " unsupported character (U+" + String.format("%04X", (int) c) + ") at index " + name.indexOf(c));
            }
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }

    private static String escape(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            b.append(Character.isISOControl(c) ? String.format("\\u%04x", (int) c) : String.valueOf(c));
        }
        return b.toString();
    }
}
