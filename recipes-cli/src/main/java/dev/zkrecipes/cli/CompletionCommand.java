package dev.zkrecipes.cli;

import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "completion", description = {"Print a shell completion script (bash; zsh loads it through bashcompinit).",
        "  source <(zkr completion bash)"})
final class CompletionCommand implements Callable<Integer> {

    @Parameters(index = "0", description = "bash or zsh", defaultValue = "bash")
    String shell;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (!shell.equals("bash") && !shell.equals("zsh")) {
            throw new CommandLine.ParameterException(spec.commandLine(), "completion for bash or zsh, not '" + shell + "'");
        }
        String script = AutoComplete.bash("zkr", spec.parent().commandLine());
        spec.commandLine().getOut().print(shell.equals("zsh") ? "autoload -U +X bashcompinit && bashcompinit\n" + script : script);
        spec.commandLine().getOut().flush();
        return Zkr.OK;
    }
}
