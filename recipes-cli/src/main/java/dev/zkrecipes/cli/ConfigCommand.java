package dev.zkrecipes.cli;

import dev.zkrecipes.config.ConfigStore;
import dev.zkrecipes.config.Versioned;
import dev.zkrecipes.config.Durations;
import dev.zkrecipes.core.ZkRecipes;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "config", description = "Shared configuration: get, set, list, watch, delete, delete-store.",
        subcommands = {ConfigCommand.Get.class, ConfigCommand.Set.class, ConfigCommand.ListKeys.class, ConfigCommand.Watch.class,
                ConfigCommand.Delete.class, ConfigCommand.DeleteStore.class})
final class ConfigCommand extends GroupCommand {

    @Command(name = "get", description = "Print the value of KEY (exit 5 if there is none).")
    static final class Get extends NamedCommand {
        @Parameters(index = "1", description = "key")
        String key;

        @Option(names = "--json", description = "{key, value, version}")
        boolean json;

        @Override
        int run(ZkRecipes zk) throws Exception {
            try (ConfigStore store = ConfigStore.open(zk, name)) {
                Optional<String> v = store.get(key);
                if (json && v.isPresent()) {
                    Versioned<String> versioned = store.getVersioned(key).orElseThrow();
                    Json.print(out(), Map.of("key", key, "value", versioned.value(), "version", versioned.version()));
                    return Zkr.OK;
                }
                if (v.isEmpty()) {
                    err().println("zkr: config '" + name + "' has no key '" + key + "'");
                    return Zkr.NOT_FOUND;
                }
                out().println(v.get());
                return Zkr.OK;
            }
        }
    }

    @Command(name = "set", description = "Set KEY=VALUE pairs in one atomic write.")
    static final class Set extends NamedCommand {
        @Parameters(index = "1..*", arity = "1..*", description = "key=value pairs")
        Map<String, String> values;

        @Option(names = "--expect-version", description = "compare-and-set: write KEY=VALUE (one pair) only if the key is"
                + " at this version now (-1: only if absent); exit 6 if it is not")
        Integer expectVersion;

        @Override
        Integer refuseBeforeConnecting() {
            if (expectVersion != null && values.size() != 1) {
                throw new IllegalArgumentException("--expect-version takes exactly one key=value pair, got " + values.size());
            }
            return null;
        }

        @Override
        int run(ZkRecipes zk) throws Exception {
            try (ConfigStore store = ConfigStore.open(zk, name)) {
                if (expectVersion != null) {
                    Map.Entry<String, String> pair = values.entrySet().iterator().next();
                    Versioned<String> v = store.compareAndSet(pair.getKey(), expectVersion, pair.getValue());
                    out().println(pair.getKey() + " = " + v.value() + "  (version " + v.version() + ")");
                    return Zkr.OK;
                }
                store.putAll(values).forEach((k, v) -> out().println(k + " = " + v.value() + "  (version " + v.version() + ")"));
                return Zkr.OK;
            }
        }
    }

    @Command(name = "list", description = "Print every key, value and version.")
    static final class ListKeys extends NamedCommand {
        @Option(names = "--json", description = "{key: {value, version}}")
        boolean json;

        @Override
        int run(ZkRecipes zk) throws Exception {
            try (ConfigStore store = ConfigStore.open(zk, name)) {
                if (json) {
                    Map<String, Object> all = new java.util.TreeMap<>();
                    store.snapshot().forEach((k, v) -> all.put(k, Map.of("value", v.value(), "version", v.version())));
                    Json.print(out(), all);
                    return Zkr.OK;
                }
                for (Map.Entry<String, Versioned<String>> e : store.snapshot().entrySet()) {
                    out().println(e.getKey() + " = " + e.getValue().value() + "  (version " + e.getValue().version() + ")");
                }
                return Zkr.OK;
            }
        }
    }

    @Command(name = "watch", description = "Print the current values, then every change with its time, until Ctrl-C (or --for).")
    static final class Watch extends NamedCommand {
        @Option(names = "--for", description = "stop after this long, e.g. 30s")
        String duration;

        @Override
        int run(ZkRecipes zk) throws Exception {
            try (ConfigStore store = ConfigStore.open(zk, name)) {
                // what is there now, then every change, each line with its time
                String now = java.time.Instant.now().toString();
                store.snapshot().forEach((k, v) -> out().println(now + "  " + k + " = " + v.value() + "  (version " + v.version() + ")"));
                out().flush();
                store.addListener(c -> {
                    out().println(java.time.Instant.now() + "  " + c.key() + ": " + c.oldValue().orElse("(none)") + " -> "
                            + c.newValue().orElse("(deleted)"));
                    out().flush();
                });
                CountDownLatch forever = new CountDownLatch(1);
                if (duration != null) {
                    forever.await(Durations.parse(duration).toMillis(), TimeUnit.MILLISECONDS);
                } else {
                    forever.await();
                }
                return Zkr.OK;
            }
        }
    }

    @Command(name = "delete", description = "Delete KEY (exit 5 if there is none).")
    static final class Delete extends NamedCommand {
        @Parameters(index = "1", description = "key")
        String key;

        @Override
        int run(ZkRecipes zk) throws Exception {
            try (ConfigStore store = ConfigStore.open(zk, name)) {
                if (!store.delete(key)) {
                    err().println("zkr: config '" + name + "' has no key '" + key + "'");
                    return Zkr.NOT_FOUND;
                }
                return Zkr.OK;
            }
        }
    }

    @Command(name = "delete-store", description = "Delete config store NAME with every key (exit 5 if there is none).")
    static final class DeleteStore extends NamedCommand {
        @Override
        int run(ZkRecipes zk) {
            if (!ConfigStore.deleteStore(zk, name)) {
                err().println("zkr: there is no config store '" + name + "'");
                return Zkr.NOT_FOUND;
            }
            return Zkr.OK;
        }
    }
}
