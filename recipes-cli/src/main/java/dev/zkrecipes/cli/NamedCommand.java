package dev.zkrecipes.cli;

import picocli.CommandLine.Parameters;

/** A subcommand of a group (queue, config, fs) whose first parameter names the recipe it works on. */
abstract class NamedCommand extends ConnectedCommand {

    @Parameters(index = "0", paramLabel = "NAME", description = "the ${PARENT-COMMAND-NAME}'s name")
    String name;

    @Override
    String recipeName() {
        return name;
    }
}
