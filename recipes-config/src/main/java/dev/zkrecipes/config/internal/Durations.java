package dev.zkrecipes.config.internal;

import java.time.Duration;
import java.util.Locale;

/** Parses durations as people write them in configuration: 250ms, 30s, 5m, 2h, 1d, or ISO-8601. */
public final class Durations {

    private Durations() {
    }

    public static Duration parse(String text) {
        String s = text.trim().toLowerCase(Locale.ROOT);
        if (s.startsWith("p")) {
            return Duration.parse(text.trim().toUpperCase(Locale.ROOT));
        }
        int unitStart = 0;
        while (unitStart < s.length() && (Character.isDigit(s.charAt(unitStart)) || s.charAt(unitStart) == '-')) {
            unitStart++;
        }
        long amount = Long.parseLong(s.substring(0, unitStart));
        return switch (s.substring(unitStart).trim()) {
            case "ms" -> Duration.ofMillis(amount);
            case "s", "" -> Duration.ofSeconds(amount);
            case "m", "min" -> Duration.ofMinutes(amount);
            case "h" -> Duration.ofHours(amount);
            case "d" -> Duration.ofDays(amount);
            default -> throw new IllegalArgumentException("unknown unit in '" + text + "'");
        };
    }
}
