package dev.zkrecipes.bench;

import java.util.Arrays;
import java.util.Locale;

/**
 * Runs benchmark scenarios: {@code mvn -q -pl benchmarks -am compile exec:java -Dexec.args=election}.
 * A scenario {@code foo} is the class {@code dev.zkrecipes.bench.FooScenario}; {@code all} runs the
 * ones listed in {@link #ALL}. {@code --connect=host:port,...} after the name runs it against an
 * external ensemble instead of an embedded server (see {@link Ensemble}).
 */
public final class Bench {

    static final String[] ALL = {"election", "lock", "queue", "config", "tls", "scale"};

    private Bench() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            System.err.println("usage: Bench <scenario> [args...]   scenarios: " + String.join(", ", ALL) + ", all");
            System.exit(2);
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        if (args[0].equals("all")) {
            for (String name : ALL) {
                Scenario s = find(name);
                if (s != null) {
                    s.run(rest);
                }
            }
        } else {
            Scenario s = find(args[0]);
            if (s == null) {
                System.err.println("no such scenario: " + args[0] + " (known: " + String.join(", ", ALL) + ")");
                System.exit(2);
            }
            s.run(rest);
        }
        System.exit(0);
    }

    private static Scenario find(String name) throws ReflectiveOperationException {
        String cls = "dev.zkrecipes.bench." + name.substring(0, 1).toUpperCase(Locale.ROOT) + name.substring(1) + "Scenario";
        try {
            return (Scenario) Class.forName(cls).getDeclaredConstructor().newInstance();
        } catch (ClassNotFoundException e) {
            return null;
        }
    }
}
