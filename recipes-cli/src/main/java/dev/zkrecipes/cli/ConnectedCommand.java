package dev.zkrecipes.cli;

import dev.zkrecipes.core.ZkRecipes;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;

/** A subcommand that talks to the ensemble named by the root command's options. */
abstract class ConnectedCommand implements Callable<Integer> {

    @CommandLine.ParentCommand
    Object parent;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    Zkr root() {
        return parent instanceof Zkr z ? z : ((Group) parent).root();
    }

    /** A command that only groups subcommands (queue, config, fs). */
    interface Group {
        Zkr root();
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    /** The recipe name this command works on, checked before connecting; null if none. */
    String recipeName() {
        return null;
    }

    /** An exit code if this command must not run (checked before connecting), else null. */
    Integer refuseBeforeConnecting() {
        return null;
    }

    @Override
    public Integer call() throws Exception {
        if (recipeName() != null) {
            // bad input fails at once, before a connection is even tried
            ZkRecipes.validateName(recipeName());
        }
        Integer refused = refuseBeforeConnecting();
        if (refused != null) {
            return refused;
        }
        try (ZkRecipes zk = root().connect()) {
            return run(zk);
        }
    }

    abstract int run(ZkRecipes zk) throws Exception;
}
