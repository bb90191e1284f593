package dev.zkrecipes.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Prints benchmark figures as aligned rows: latency percentiles from an HdrHistogram recorded in
 * microseconds, or a throughput, each next to its ratio against a baseline from the same run. Every
 * row is also kept as a record (figure, subject, unit, numbers) for tools: {@link #drain()}.
 */
public final class Report {

    private static final List<Map<String, Object>> RECORDED = new ArrayList<>();
    private static String figure = "";

    private Report() {
    }

    /** The rows recorded since the last call, one map per row, in order; clears them. */
    public static synchronized List<Map<String, Object>> drain() {
        List<Map<String, Object>> rows = new ArrayList<>(RECORDED);
        RECORDED.clear();
        return rows;
    }

    private static synchronized void record(String subject, String unit, Map<String, Object> numbers) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("figure", figure);
        row.put("subject", subject);
        row.put("unit", unit);
        row.putAll(numbers);
        RECORDED.add(row);
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
        figure = title;
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
        Map<String, Object> numbers = new LinkedHashMap<>();
        numbers.put("p50", p50(h));
        numbers.put("p99", h.getValueAtPercentile(99) / 1000.0);
        numbers.put("max", h.getMaxValue() / 1000.0);
        numbers.put("n", h.getTotalCount());
        record(label, "ms", numbers);
    }

    /** One throughput row in operations per second; ratio is this over the baseline. */
    public static void throughputRow(String label, double perSecond, double baselinePerSecond, String baselineName) {
        String ratio = baselinePerSecond <= 0 ? ""
                : String.format(Locale.ROOT, "%.2fx %s", perSecond / baselinePerSecond, baselineName);
        System.out.printf(Locale.ROOT, "   %-44s %12.0f/s %s%n", label, perSecond, ratio);
        record(label, "ops/s", Map.of("rate", perSecond));
    }

    /** A free-form line under the current title. */
    public static void note(String text) {
        System.out.println("   " + text);
    }

    public static double p50(Histogram h) {
        return h.getValueAtPercentile(50) / 1000.0;
    }
}
