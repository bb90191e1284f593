package dev.zkrecipes.cli;

import dev.zkrecipes.bench.Scenario;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "bench", description = {"Run the benchmark suite on an embedded server, with JSON results.",
        "Every figure next to Curator's recipe and the raw ZooKeeper client measured in the same run."})
final class BenchCommand implements Callable<Integer> {

    @Parameters(arity = "0..*", description = "scenarios (default: election lock queue config)")
    List<String> scenarios = new ArrayList<>(List.of("election", "lock", "queue", "config"));

    @Option(names = "--quick", description = "smaller counts: the whole suite in about two minutes")
    boolean quick;

    @Option(names = "--json", description = "where to write the results (default: bench-results/zkr-bench-<time>.json)")
    Path json;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Map<String, Object> results = new LinkedHashMap<>();
        results.put("date", Instant.now().toString());
        results.put("cores", Runtime.getRuntime().availableProcessors());
        results.put("java", System.getProperty("java.version"));
        results.put("quick", quick);
        Map<String, List<String>> figures = new LinkedHashMap<>();
        int n = 0;
        for (String name : scenarios) {
            n++;
            spec.commandLine().getErr().printf(Locale.ROOT, "[%d/%d] %s ...%n", n, scenarios.size(), name);
            spec.commandLine().getErr().flush();
            Scenario scenario = scenario(name);
            ByteArrayOutputStream captured = new ByteArrayOutputStream();
            PrintStream original = System.out;
            PrintStream tee = new PrintStream(new TeeStream(original, captured), true, StandardCharsets.UTF_8);
            System.setOut(tee);
            long t0 = System.nanoTime();
            try {
                scenario.run(quick ? new String[] {"--quick"} : new String[0]);
            } finally {
                System.setOut(original);
            }
            spec.commandLine().getErr().printf(Locale.ROOT, "[%d/%d] %s done in %.0f s%n", n, scenarios.size(), name,
                    (System.nanoTime() - t0) / 1e9);
            List<String> lines = new ArrayList<>();
            for (String line : captured.toString(StandardCharsets.UTF_8).split("\n")) {
                if (line.startsWith("==") || line.startsWith("   ")) {
                    lines.add(line.strip());
                }
            }
            figures.put(name, lines);
        }
        results.put("figures", figures);
        Path out = json != null ? json : Path.of("bench-results", "zkr-bench-" + Instant.now().toString().replace(':', '-') + ".json");
        if (out.getParent() != null) {
            Files.createDirectories(out.getParent());
        }
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.toFile(), results);
        spec.commandLine().getOut().println("results written to " + out);
        return Zkr.OK;
    }

    private static Scenario scenario(String name) throws ReflectiveOperationException {
        String cls = "dev.zkrecipes.bench." + name.substring(0, 1).toUpperCase(Locale.ROOT) + name.substring(1) + "Scenario";
        try {
            return (Scenario) Class.forName(cls).getDeclaredConstructor().newInstance();
        } catch (ClassNotFoundException e) {
            throw new IllegalArgumentException("no benchmark scenario '" + name + "' (known: election, lock, queue, config)");
        }
    }

    /** Writes to two streams. */
    private static final class TeeStream extends java.io.OutputStream {
        private final java.io.OutputStream a;
        private final java.io.OutputStream b;

        TeeStream(java.io.OutputStream a, java.io.OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(int c) throws java.io.IOException {
            a.write(c);
            b.write(c);
        }

        @Override
        public void write(byte[] buf, int off, int len) throws java.io.IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }

        @Override
        public void flush() throws java.io.IOException {
            a.flush();
            b.flush();
        }
    }
}
