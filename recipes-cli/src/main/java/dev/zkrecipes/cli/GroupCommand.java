package dev.zkrecipes.cli;

import picocli.CommandLine;
import picocli.CommandLine.ParentCommand;

/** A command that only groups subcommands (queue, config, fs); on its own it is a usage error. */
abstract class GroupCommand implements ConnectedCommand.Group, Runnable {

    @ParentCommand
    Zkr root;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Zkr root() {
        return root;
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "say which: " + String.join(", ",
                spec.commandLine().getSubcommands().keySet()));
    }
}
