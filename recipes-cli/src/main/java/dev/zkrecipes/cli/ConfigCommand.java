package dev.zkrecipes.cli;

import dev.zkrecipes.config.ConfigStore;
import dev.zkrecipes.config.Versioned;
import dev.zkrecipes.config.internal.Durations;
import dev.zkrecipes.core.ZkRecipes;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "config", description = "Shared configuration: get, set, list, watch.",
        subcommands = {ConfigCommand.Get.class, ConfigCommand.Set.class, ConfigCommand.ListKeys.class, ConfigCommand.Watch.class})
final class ConfigCommand extends GroupCommand {

    @Command(name = "get", description = "Print the value of KEY (exit 5 if there is none).")
    static final class Get extends ConnectedCommand {
        @Parameters(index = "0", description = "store name")
        String name;

        @Override
        String recipeName() {
            return name;
        }

        @Parameters(index = "1", description = "key")
        String key;

        @Override
        int run(ZkRecipes zk) throws Exception {
            try (ConfigStore store = ConfigStore.open(zk, name)) {
                Optional<String> v = store.get(key);
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
    static final class Set extends ConnectedCommand {
        @Parameters(index = "0", description = "store name")
        String name;

        @Override
        String recipeName() {
            return name;
        }

        @Parameters(index = "1..*", arity = "1..*", description = "key=value pairs")
        Map<String, String> values;

        @Override
        int run(ZkRecipes zk) throws Exception {
            try (ConfigStore store = ConfigStore.open(zk, name)) {
                store.putAll(values).forEach((k, v) -> out().println(k + " = " + v.value() + "  (version " + v.version() + ")"));
                return Zkr.OK;
            }
        }
    }

    @Command(name = "list", description = "Print every key, value and version.")
    static final class ListKeys extends ConnectedCommand {
        @Parameters(index = "0", description = "store name")
        String name;

        @Override
        String recipeName() {
            return name;
        }

        @Override
        int run(ZkRecipes zk) throws Exception {
            try (ConfigStore store = ConfigStore.open(zk, name)) {
                for (Map.Entry<String, Versioned<String>> e : store.snapshot().entrySet()) {
                    out().println(e.getKey() + " = " + e.getValue().value() + "  (version " + e.getValue().version() + ")");
                }
                return Zkr.OK;
            }
        }
    }

    @Command(name = "watch", description = "Print every change until Ctrl-C (or --for).")
    static final class Watch extends ConnectedCommand {
        @Parameters(index = "0", description = "store name")
        String name;

        @Override
        String recipeName() {
            return name;
        }

        @Option(names = "--for", description = "stop after this long, e.g. 30s")
        String duration;

        @Override
        int run(ZkRecipes zk) throws Exception {
            try (ConfigStore store = ConfigStore.open(zk, name)) {
                store.addListener(c -> {
                    out().println(c.key() + ": " + c.oldValue().orElse("(none)") + " -> " + c.newValue().orElse("(deleted)"));
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
}
