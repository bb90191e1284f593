package dev.zkrecipes.cli;

import dev.zkrecipes.config.FileMetadata;
import dev.zkrecipes.config.FileMetadataStore;
import dev.zkrecipes.config.Versioned;
import dev.zkrecipes.core.NoSuchPathException;
import dev.zkrecipes.core.ZkRecipes;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "fs", description = "File-system metadata: ls, stat, put, mkdir, mv, rm, delete-store.",
        subcommands = {FsCommand.Ls.class, FsCommand.Stat.class, FsCommand.Put.class, FsCommand.Mkdir.class, FsCommand.Mv.class,
                FsCommand.Rm.class, FsCommand.DeleteStore.class})
final class FsCommand extends GroupCommand {

    @Command(name = "ls", description = "List a directory.")
    static final class Ls extends NamedCommand {
        @Parameters(index = "1", defaultValue = "/", description = "directory (default /)")
        String path;

        @Option(names = "--json", description = "[names]")
        boolean json;

        @Override
        int run(ZkRecipes zk) throws Exception {
            try (FileMetadataStore fs = FileMetadataStore.open(zk, name)) {
                if (json) {
                    Json.print(out(), fs.list(path));
                    return Zkr.OK;
                }
                fs.list(path).forEach(out()::println);
                return Zkr.OK;
            }
        }
    }

    @Command(name = "stat", description = "Print the metadata of a file or directory.")
    static final class Stat extends NamedCommand {
        @Parameters(index = "1", description = "path")
        String path;

        @Option(names = "--json", description = "{path, type, size, checksum, owner, modified, replicas, attributes, version}")
        boolean json;

        @Override
        int run(ZkRecipes zk) throws Exception {
            try (FileMetadataStore fs = FileMetadataStore.open(zk, name)) {
                Versioned<FileMetadata> m = fs.stat(path)
                        .orElseThrow(() -> new NoSuchPathException("'" + path + "' does not exist in file store '" + name + "'"));
                java.util.Map<String, Object> fields = Json.metadata(path, m);
                if (json) {
                    Json.print(out(), fields);
                } else {
                    fields.forEach((k, v) -> {
                        if (v != null) {
                            out().println(k + "=" + v);
                        }
                    });
                }
                return Zkr.OK;
            }
        }
    }

    @Command(name = "put", description = "Create a file entry (parents as needed).")
    static final class Put extends NamedCommand {
        @Parameters(index = "1", description = "path")
        String path;

        @Option(names = "--size", defaultValue = "0")
        long size;

        @Option(names = "--checksum")
        String checksum;

        @Option(names = "--owner")
        String owner;

        @Option(names = "--replica", description = "a replica location (repeatable)")
        List<String> replicas = List.of();

        @Override
        int run(ZkRecipes zk) throws Exception {
            FileMetadata.Builder b = FileMetadata.builder().size(size).replicas(replicas).modified(java.time.Instant.now());
            if (checksum != null) {
                b.checksum(checksum);
            }
            if (owner != null) {
                b.owner(owner);
            }
            try (FileMetadataStore fs = FileMetadataStore.open(zk, name)) {
                fs.create(path, b.build());
                out().println("created " + path);
                return Zkr.OK;
            }
        }
    }

    @Command(name = "mv", description = "Move a file or a whole directory, atomically.")
    static final class Mv extends NamedCommand {
        @Parameters(index = "1", description = "from")
        String from;

        @Parameters(index = "2", description = "to")
        String to;

        @Option(names = "-p", description = "create the target's parent directories first")
        boolean parents;

        @Override
        int run(ZkRecipes zk) throws Exception {
            try (FileMetadataStore fs = FileMetadataStore.open(zk, name)) {
                String parent = to.contains("/") && to.lastIndexOf('/') > 0 ? to.substring(0, to.lastIndexOf('/')) : null;
                if (parents && parent != null) {
                    fs.mkdirs(parent);
                }
                fs.rename(from, to);
                return Zkr.OK;
            }
        }
    }

    @Command(name = "rm", description = "Delete a file or an empty directory (-r: with everything below it).")
    static final class Rm extends NamedCommand {
        @Parameters(index = "1", description = "path")
        String path;

        @Option(names = "-r", description = "recursive")
        boolean recursive;

        @Override
        int run(ZkRecipes zk) throws Exception {
            try (FileMetadataStore fs = FileMetadataStore.open(zk, name)) {
                fs.delete(path, recursive);
                return Zkr.OK;
            }
        }
    }

    @Command(name = "mkdir", description = "Create a directory and its parents; nothing if it exists.")
    static final class Mkdir extends NamedCommand {
        @Parameters(index = "1", description = "path")
        String path;

        @Override
        int run(ZkRecipes zk) throws Exception {
            try (FileMetadataStore fs = FileMetadataStore.open(zk, name)) {
                fs.mkdirs(path);
                return Zkr.OK;
            }
        }
    }

    @Command(name = "delete-store", description = "Delete file store NAME with every entry (exit 5 if there is none).")
    static final class DeleteStore extends NamedCommand {
        @Override
        int run(ZkRecipes zk) {
            if (!FileMetadataStore.deleteStore(zk, name)) {
                err().println("zkr: there is no file store '" + name + "'");
                return Zkr.NOT_FOUND;
            }
            return Zkr.OK;
        }
    }
}
