package dev.zkrecipes.bench;

import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Prints benchmark figures as aligned rows: latency percentiles from an HdrHistogram recorded in
 * microseconds, or a throughput, each next to its ratio against a baseline from the same run.
 */
public final class Report {

    private Report() {
    }

    /** A histogram for latencies in microseconds, from 1 µs to 1 minute, 3 significant digits. */
    public static Histogram latencies() {
        return new Histogram(1, TimeUnit.MINUTES.toMicros(1), 3);
    }

    /** Records the time since {@code startNanos} in microseconds. */
    public static void recordSince(Histogram h, long startNanos) {
        h.recordValue(Math.max(1, (System.nanoTime() - startNanos) / 1000));
    }

    public static void title(String title) {
        System.out.println();
        System.out.println("== " + title);
        System.out.printf(Locale.ROOT, "   %-44s %9s %9s %9s %6s %s%n", "", "p50 ms", "p99 ms", "max ms", "n", "");
    }

    /** One latency row; {@code baseline} may be null. Ratio is this p50 over the baseline's p50. */
    public static void latencyRow(String label, Histogram h, Histogram baseline, String baselineName) {
        String ratio = baseline == null || baseline.getTotalCount() == 0 ? ""
                : String.format(Locale.ROOT, "%.2fx %s p50", p50(h) / p50(baseline), baselineName);
        System.out.printf(Locale.ROOT, "   %-44s %9.3f %9.3f %9.3f %6d %s%n", label, p50(h),
                h.getValueAtPercentile(99) / 1000.0, h.getMaxValue() / 1000.0, h.getTotalCount(), ratio);
    }

    /** One throughput row in operations per second; ratio is this over the baseline. */
    public static void throughputRow(String label, double perSecond, double baselinePerSecond, String baselineName) {
        String ratio = baselinePerSecond <= 0 ? ""
                : String.format(Locale.ROOT, "%.2fx %s", perSecond / baselinePerSecond, baselineName);
        System.out.printf(Locale.ROOT, "   %-44s %12.0f/s %s%n", label, perSecond, ratio);
    }

    /** A free-form line under the current title. */
    public static void note(String text) {
        System.out.println("   " + text);
    }

    public static double p50(Histogram h) {
        return h.getValueAtPercentile(50) / 1000.0;
    }
}
