package dev.zkrecipes.config;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses durations as people write them in configuration: {@code 250ms}, {@code 30s}, {@code 1.5s},
 * {@code 5m}, {@code 2h}, {@code 1d}, or ISO-8601 ({@code PT30S}). A unit is required (a bare
 * {@code 10} could mean anything) and negative durations are refused. {@link ConfigStore#getDuration}
 * reads values this way; use it for your own settings so they read alike.
 */
public final class Durations {

    private static final Pattern SIMPLE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|min|h|d)");

    private Durations() {
    }

    /** @throws IllegalArgumentException if {@code text} is not a non-negative duration with a unit */
    public static Duration parse(String text) {
        String s = text.trim().toLowerCase(Locale.ROOT);
        Duration d;
        if (s.startsWith("p")) {
            d = Duration.parse(text.trim().toUpperCase(Locale.ROOT));
        } else {
            Matcher m = SIMPLE.matcher(s);
            if (!m.matches()) {
                throw new IllegalArgumentException("'" + text + "' is not a duration: write a number and a unit"
                        + " (250ms, 1.5s, 5m, 2h, 1d) or ISO-8601 (PT30S)");
            }
            BigDecimal amount = new BigDecimal(m.group(1));
            long nanosPerUnit = switch (m.group(2)) {
                case "ms" -> 1_000_000L;
                case "s" -> 1_000_000_000L;
                case "m", "min" -> 60_000_000_000L;
                case "h" -> 3_600_000_000_000L;
                default -> 86_400_000_000_000L;
            };
            d = Duration.ofNanos(amount.multiply(BigDecimal.valueOf(nanosPerUnit)).longValueExact());
        }
        if (d.isNegative()) {
            throw new IllegalArgumentException("'" + text + "' is negative; a duration here must be zero or more");
        }
        return d;
    }
}
