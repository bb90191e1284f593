package dev.zkrecipes.core.internal;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/** Eager checks for builder options, so a bad option fails at the call that sets it, named. */
public final class Options {

    private Options() {
    }

    /** Throws {@link IllegalStateException} if the option already has a value: each is set once. */
    public static void once(Object current, String option) {
        if (current != null) {
            throw new IllegalStateException(option + " was already set on this builder");
        }
    }

    /** Returns {@code d} if it is positive and fits in an int of milliseconds. */
    public static Duration positive(Duration d, String option) {
        requireNonNull(d, option);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(option + " must be positive, got " + d);
        }
        if (d.toMillis() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(option + " is too long: " + d);
        }
        return d;
    }

    /** Returns {@code d} if it is zero or positive (a timeout: zero means do not wait). */
    public static Duration nonNegative(Duration d, String option) {
        requireNonNull(d, option);
        if (d.isNegative()) {
            throw new IllegalArgumentException(option + " must not be negative, got " + d);
        }
        return d;
    }
}
