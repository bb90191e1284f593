package dev.zkrecipes.config.internal;

import static java.util.Objects.requireNonNull;

/** Validation of config keys: non-empty, at most 256 characters, no '/', no control characters. */
public final class Keys {

    public static final int MAX_KEY_LENGTH = 256;

    private Keys() {
    }

    public static String validate(String key) {
        requireNonNull(key, "key");
        if (key.isEmpty()) {
            throw new IllegalArgumentException("config key is empty");
        }
        if (key.length() > MAX_KEY_LENGTH) {
            throw new IllegalArgumentException("config key '" + key.substring(0, 40) + "...' is " + key.length()
                    + " characters, over the limit of " + MAX_KEY_LENGTH);
        }
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (c == '/') {
                throw new IllegalArgumentException("config key '" + key + "' holds '/'; use '.' to structure keys, e.g. db.host");
            }
            if (Character.isISOControl(c)) {
                throw new IllegalArgumentException("config key holds a control character (U+"
                        + String.format("%04X", (int) c) + ") at index " + i);
            }
        }
        return key;
    }
}
