package dev.zkrecipes.cli;

import dev.zkrecipes.bench.Report;
import dev.zkrecipes.bench.Scenario;
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

@Command(name = "bench", description = {"Run the benchmark suite on an embedded server (or --connect: yours), with JSON results.",
        "Every figure next to Curator's recipe and the raw ZooKeeper client measured in the same run."})
final class BenchCommand implements Callable<Integer> {

    @Parameters(arity = "0..*", description = "scenarios (default: election lock queue config)")
    List<String> scenarios = new ArrayList<>(List.of("election", "lock", "queue", "config"));

    @Option(names = "--quick", description = "smaller counts: the whole suite in about two minutes")
    boolean quick;

    @Option(names = "--connect", paramLabel = "HOST:PORT,...", description = {"run against this ensemble instead of an",
            "embedded server, under a namespace made for the run and removed after it (tls is skipped there)"})
    String connect;

    @Option(names = "--json", description = "where to write the results (default: bench-results/zkr-bench-<time>.json)")
    Path json;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Map<String, Object> results = new LinkedHashMap<>();
        results.put("date", Instant.now().toString());
        Map<String, Object> machine = new LinkedHashMap<>();
        machine.put("cores", Runtime.getRuntime().availableProcessors());
        machine.put("java", System.getProperty("java.version"));
        machine.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        machine.put("maxHeapMiB", Runtime.getRuntime().maxMemory() >> 20);
        results.put("machine", machine);
        results.put("quick", quick);
        results.put("ensemble", connect != null ? connect : "embedded");
        List<Map<String, Object>> figures = new ArrayList<>();
        Report.drain();
        int n = 0;
        for (String name : scenarios) {
            n++;
            spec.commandLine().getErr().printf(Locale.ROOT, "[%d/%d] %s ...%n", n, scenarios.size(), name);
            spec.commandLine().getErr().flush();
            Scenario scenario = scenario(name);
            long t0 = System.nanoTime();
            List<String> args = new ArrayList<>();
            if (quick) {
                args.add("--quick");
            }
            if (connect != null) {
                ConnectString.check(connect);
                args.add("--connect=" + connect);
            }
            scenario.run(args.toArray(String[]::new));
            spec.commandLine().getErr().printf(Locale.ROOT, "[%d/%d] %s done in %.0f s%n", n, scenarios.size(), name,
                    (System.nanoTime() - t0) / 1e9);
            // one object per figure and subject, so that a script can divide any two subjects of a figure
            for (Map<String, Object> row : Report.drain()) {
                Map<String, Object> withScenario = new LinkedHashMap<>();
                withScenario.put("scenario", name);
                withScenario.putAll(row);
                figures.add(withScenario);
            }
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
            throw new IllegalArgumentException("no benchmark scenario '" + name + "' (known: election, lock, queue, config, tls)");
        }
    }
}
