package dev.zkrecipes.config;

import static java.util.Objects.requireNonNull;

import dev.zkrecipes.config.internal.FsPaths;
import dev.zkrecipes.config.internal.LocalCopy;
import dev.zkrecipes.config.internal.MetadataCodec;
import dev.zkrecipes.core.AlreadyExistsException;
import dev.zkrecipes.core.ConnectionLossException;
import dev.zkrecipes.core.DirectoryNotEmptyException;
import dev.zkrecipes.core.NoSuchPathException;
import dev.zkrecipes.core.NotADirectoryException;
import dev.zkrecipes.core.VersionConflictException;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.core.internal.Lifecycle;
import dev.zkrecipes.core.internal.PayloadLimit;
import dev.zkrecipes.core.internal.RecipePaths;
import dev.zkrecipes.core.internal.SerialExecutor;
import dev.zkrecipes.core.internal.ZkErrors;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

/**
 * The metadata of a distributed file system, kept in ZooKeeper and mirrored on every node that
 * opens the store: a POSIX-like tree of directories and files under {@code /zkr/fs/<name>}, one
 * znode per entry holding its {@link FileMetadata} as JSON.
 *
 * <pre>{@code
 * try (FileMetadataStore fs = FileMetadataStore.open(zk, "warehouse")) {
 *     fs.create("/raw/2026/11/a.parquet", FileMetadata.builder().size(1024).checksum("sha256:..").build());
 *     fs.rename("/raw/2026/11", "/archive/2026/11");   // the whole directory, in one transaction
 * }
 * }</pre>
 *
 * <p>Paths are absolute, {@code /}-separated, without empty, {@code .} or {@code ..} segments or
 * control characters; a bad path fails with {@link IllegalArgumentException} before anything is sent.
 * Failures a caller can act on are typed: {@link AlreadyExistsException},
 * {@link NoSuchPathException}, {@link NotADirectoryException}, {@link DirectoryNotEmptyException},
 * {@link VersionConflictException}.
 *
 * <p><b>Reads:</b> {@link #stat} answers from the local copy (a Curator {@code CuratorCache} of the
 * tree) without a round trip when the entry is there, and confirms a miss on the ensemble (so a
 * rename in flight never looks like neither name); {@link #list} reads the directory from the
 * ensemble. Versions start again at 0 when an entry is re-created (by a rename, say): a
 * compare-and-set with a version from before matches the new entry. After a write
 * returns, this store's {@code stat} shows it (the write waits, briefly, for the local copy).
 *
 * <p><b>Connection loss:</b> {@code stat} keeps answering from the last copy; writes retry under the
 * retry policy and then throw {@link ConnectionLossException}. After a reconnect or a new session
 * the copy is read again and watchers hear what changed meanwhile.
 */
public final class FileMetadataStore implements AutoCloseable {

    private static final Duration DEFAULT_OPEN_TIMEOUT = Duration.ofSeconds(15);
    private static final long CACHE_WAIT_MILLIS = 5_000;
    private static final byte[] DIRECTORY = MetadataCodec.encode(FileMetadata.directory());

    private final ZkRecipes zk;
    private final CuratorFramework curator;
    private final String name;
    private final String base;
    private final CuratorCache cache;
    private final SerialExecutor callbacks;
    private final Lifecycle lifecycle;
    private final Object cacheMoved = new Object();

    private FileMetadataStore(ZkRecipes zk, String name) {
        this.zk = zk;
        this.curator = zk.curator();
        this.name = name;
        this.base = RecipePaths.fs(name);
        this.cache = CuratorCache.build(curator, base);
        this.callbacks = new SerialExecutor("fs-" + name);
        this.lifecycle = new Lifecycle("FileMetadataStore('" + name + "')");
    }

    /**
     * Opens store {@code name}, creating its root directory if needed, and returns once the local
     * copy holds the whole tree (waits up to 15 s).
     *
     * @throws IllegalArgumentException if {@code name} is not a valid recipe name
     * @throws ConnectionLossException if the ensemble could not be read in time
     * @throws InterruptedException if interrupted while waiting
     */
    public static FileMetadataStore open(ZkRecipes zk, String name) throws InterruptedException {
        requireNonNull(zk, "zk");
        RecipePaths.validateName(name);
        zk.checkStarted();
        FileMetadataStore store = new FileMetadataStore(zk, name);
        store.start(DEFAULT_OPEN_TIMEOUT);
        return store;
    }

    private void start(Duration timeout) throws InterruptedException {
        lifecycle.start();
        try {
            curator.create().creatingParentContainersIfNeeded().forPath(base, DIRECTORY);
        } catch (KeeperException.NodeExistsException exists) {
            // opened before
        } catch (Exception e) {
            throw ZkErrors.translate(e, "creating the root of file store '" + name + "'");
        }
        LocalCopy.start(cache, CuratorCacheListener.builder()
                .forAll((type, oldData, data) -> {
                    synchronized (cacheMoved) {
                        cacheMoved.notifyAll();
                    }
                })
                .build(), timeout, "file store '" + name + "' (" + base + ")", this::close);
    }

    // ---- reads ----

    /**
     * The metadata of {@code path} with its version, from the local copy; empty if there is no such
     * entry.
     */
    public Optional<Versioned<FileMetadata>> stat(String path) {
        String zkPath = zkPath(FsPaths.validate(path));
        Optional<ChildData> cached = cache.get(zkPath);
        if (cached.isPresent()) {
            return cached.map(d -> new Versioned<>(MetadataCodec.decode(d.getData(), path), d.getStat().getVersion()));
        }
        // A miss is confirmed on the ensemble: the local copy learns of a rename as a delete and a
        // create one after the other, and must not report that neither name exists in between.
        try {
            Stat stat = new Stat();
            byte[] data = curator.getData().storingStatIn(stat).forPath(zkPath);
            return Optional.of(new Versioned<>(MetadataCodec.decode(data, path), stat.getVersion()));
        } catch (KeeperException.NoNodeException e) {
            return Optional.empty();
        } catch (Exception e) {
            throw ZkErrors.translate(e, "reading '" + path + "' in file store '" + name + "'");
        }
    }

    /**
     * The names of the entries of directory {@code path}, sorted, read from the ensemble.
     *
     * @throws NoSuchPathException if there is no such directory
     * @throws NotADirectoryException if {@code path} is a file
     */
    public List<String> list(String path) {
        String zkPath = zkPath(FsPaths.validate(path));
        try {
            List<String> names = new ArrayList<>(curator.getChildren().forPath(zkPath));
            if (names.isEmpty() && !isDirectory(zkPath)) {
                throw new NotADirectoryException("'" + path + "' in file store '" + name + "' is a file, not a directory");
            }
            Collections.sort(names);
            return names;
        } catch (KeeperException.NoNodeException e) {
            throw new NoSuchPathException("'" + path + "' does not exist in file store '" + name + "'", e);
        } catch (Exception e) {
            throw ZkErrors.translate(e, "listing '" + path + "' in file store '" + name + "'");
        }
    }

    // ---- writes ----

    /**
     * Creates a file (or, with {@link FileMetadata#directory()}, a directory) at {@code path}, with
     * every missing parent directory, in one transaction.
     *
     * @return the metadata with its version (0)
     * @throws AlreadyExistsException if {@code path} exists
     * @throws NotADirectoryException if a parent is a file
     */
    public Versioned<FileMetadata> create(String path, FileMetadata metadata) {
        FsPaths.validate(path);
        requireNonNull(metadata, "metadata");
        if (path.equals("/")) {
            throw new AlreadyExistsException("the root of file store '" + name + "' always exists");
        }
        byte[] data = MetadataCodec.encode(metadata);
        PayloadLimit.check(zk, data, "metadata of '" + path + "'");
        for (int attempt = 0; ; attempt++) {
            List<CuratorOp> ops = new ArrayList<>();
            try {
                for (String dir : missingParents(path)) {
                    ops.add(curator.transactionOp().create().forPath(zkPath(dir), DIRECTORY));
                }
                ops.add(curator.transactionOp().create().forPath(zkPath(path), data));
                curator.transaction().forOperations(ops);
                awaitLocal(zkPath(path));
                // a new znode is at version 0; a later version would be another client's update
                return new Versioned<>(metadata, 0);
            } catch (KeeperException.NodeExistsException e) {
                if (ops.size() == 1 || attempt >= 3 || exists(zkPath(path))) {
                    throw new AlreadyExistsException("'" + path + "' already exists in file store '" + name + "'", e);
                }
                // another client made one of the parents meanwhile: look again
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw ZkErrors.translate(e, "creating '" + path + "' in file store '" + name + "'");
            }
        }
    }

    /** Creates directory {@code path} and its missing parents; does nothing if it exists. */
    public void mkdirs(String path) {
        FsPaths.validate(path);
        if (path.equals("/") || (isDirectory(zkPath(path)))) {
            return;
        }
        try {
            create(path, FileMetadata.directory());
        } catch (AlreadyExistsException raced) {
            if (!isDirectory(zkPath(path))) {
                throw new NotADirectoryException("'" + path + "' in file store '" + name + "' is a file", raced);
            }
        }
    }

    /**
     * Replaces the metadata of {@code path} if its version is still {@code expectedVersion}.
     *
     * @return the metadata with its new version
     * @throws VersionConflictException if another client updated it first; nothing was written
     * @throws NoSuchPathException if there is no such entry
     */
    public Versioned<FileMetadata> update(String path, int expectedVersion, FileMetadata metadata) {
        FsPaths.validate(path);
        requireNonNull(metadata, "metadata");
        byte[] data = PayloadLimit.check(zk, MetadataCodec.encode(metadata), "metadata of '" + path + "'");
        try {
            Stat written = curator.setData().withVersion(expectedVersion).forPath(zkPath(path), data);
            awaitLocal(zkPath(path), written.getMzxid());
            return new Versioned<>(metadata, written.getVersion());
        } catch (KeeperException.BadVersionException e) {
            throw new VersionConflictException("'" + path + "' in file store '" + name + "' is no longer at version "
                    + expectedVersion + ": another client updated it first; stat it again and retry", e);
        } catch (KeeperException.NoNodeException e) {
            throw new NoSuchPathException("'" + path + "' does not exist in file store '" + name + "'", e);
        } catch (Exception e) {
            throw ZkErrors.translate(e, "updating '" + path + "' in file store '" + name + "'");
        }
    }

    /**
     * Deletes a file or an empty directory.
     *
     * @throws DirectoryNotEmptyException if {@code path} is a directory with entries
     * @throws NoSuchPathException if there is no such entry
     */
    public void delete(String path) {
        delete(path, false);
    }

    /**
     * Deletes {@code path}; with {@code recursive}, a directory with everything below it, in one
     * transaction while it fits in one (larger trees are deleted entry by entry, bottom up).
     */
    public void delete(String path, boolean recursive) {
        FsPaths.validate(path);
        if (path.equals("/")) {
            throw new IllegalArgumentException("the root of file store '" + name + "' cannot be deleted");
        }
        String zkPath = zkPath(path);
        try {
            if (!recursive) {
                curator.delete().forPath(zkPath);
            } else {
                List<String> subtree = subtree(zkPath);
                List<CuratorOp> ops = new ArrayList<>();
                for (int i = subtree.size() - 1; i >= 0; i--) {
                    ops.add(curator.transactionOp().delete().forPath(subtree.get(i)));
                }
                long size = 1024;
                for (String node : subtree) {
                    size += node.length() + 32L;
                }
                if (size < zk.maxPayloadBytes()) {
                    curator.transaction().forOperations(ops);
                } else {
                    curator.delete().deletingChildrenIfNeeded().forPath(zkPath);
                }
            }
            awaitLocalGone(zkPath);
        } catch (KeeperException.NotEmptyException e) {
            throw new DirectoryNotEmptyException("'" + path + "' in file store '" + name
                    + "' is a directory with entries; delete them first or delete recursively", e);
        } catch (KeeperException.NoNodeException e) {
            throw new NoSuchPathException("'" + path + "' does not exist in file store '" + name + "'", e);
        } catch (Exception e) {
            throw ZkErrors.translate(e, "deleting '" + path + "' in file store '" + name + "'");
        }
    }

    /**
     * Moves a file, or a directory with everything below it, from {@code from} to {@code to} in one
     * ZooKeeper transaction: every reader sees either the old names or the new ones, never both or
     * neither. Versions start again at 0 under the new names.
     *
     * @throws NoSuchPathException if {@code from} or the parent of {@code to} does not exist
     * @throws AlreadyExistsException if {@code to} exists
     * @throws NotADirectoryException if the parent of {@code to} is a file
     * @throws dev.zkrecipes.core.PayloadTooLargeException if the subtree does not fit in one
     *         transaction; nothing was moved
     * @throws VersionConflictException if the subtree kept changing during the move; nothing was moved
     */
    public void rename(String from, String to) {
        FsPaths.validate(from);
        FsPaths.validate(to);
        if (from.equals("/") || FsPaths.isAtOrBelow(to, from)) {
            throw new IllegalArgumentException("cannot move '" + from + "' to '" + to + "': into itself");
        }
        String parent = FsPaths.parent(to);
        if (!parent.equals("/") && !exists(zkPath(parent))) {
            throw new NoSuchPathException("the parent directory of '" + to + "' does not exist in file store '" + name + "'");
        }
        if (!parent.equals("/") && !isDirectory(zkPath(parent))) {
            throw new NotADirectoryException("the parent of '" + to + "' in file store '" + name + "' is a file");
        }
        for (int attempt = 0; attempt < 5; attempt++) {
            try {
                String fromZk = zkPath(from);
                List<String> subtree = subtree(fromZk);
                List<CuratorOp> ops = new ArrayList<>();
                List<String> targets = new ArrayList<>();
                long size = 0;
                List<Integer> versions = new ArrayList<>();
                for (String node : subtree) {
                    Stat stat = new Stat();
                    byte[] data = curator.getData().storingStatIn(stat).forPath(node);
                    versions.add(stat.getVersion());
                    String target = zkPath(to) + node.substring(fromZk.length());
                    ops.add(curator.transactionOp().create().forPath(target, data));
                    targets.add(target);
                    size += data.length + target.length() + node.length() + 64;
                }
                for (int i = subtree.size() - 1; i >= 0; i--) {
                    // at the version we copied: an update that lands meanwhile fails the move, not vanishes
                    ops.add(curator.transactionOp().delete().withVersion(versions.get(i)).forPath(subtree.get(i)));
                }
                PayloadLimit.check(zk, size, "moving '" + from + "' with " + subtree.size() + " entries in one transaction");
                curator.transaction().forOperations(ops);
                // every moved entry, not just the top: the local copy learns of them one by one
                awaitLocal(zkPath(to));
                awaitCache(() -> targets.stream().allMatch(t -> cache.get(t).isPresent())
                        && subtree.stream().noneMatch(old -> cache.get(old).isPresent()));
                return;
            } catch (KeeperException.NodeExistsException e) {
                throw new AlreadyExistsException("'" + to + "' already exists in file store '" + name + "'", e);
            } catch (KeeperException.NoNodeException | KeeperException.NotEmptyException | KeeperException.BadVersionException changed) {
                if (!exists(zkPath(from))) {
                    throw new NoSuchPathException("'" + from + "' does not exist in file store '" + name + "'", changed);
                }
                // an entry appeared or vanished below 'from' while we read it: read again
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw ZkErrors.translate(e, "moving '" + from + "' to '" + to + "' in file store '" + name + "'");
            }
        }
        throw new VersionConflictException("'" + from + "' in file store '" + name + "' kept changing during the move; retry");
    }

    /**
     * Calls {@code listener} for every entry created, updated or deleted at or below {@code path},
     * from now on, one at a time, in order, on the store's own thread.
     *
     * @return a handle whose {@code close()} stops the watch
     */
    public AutoCloseable watch(String path, Consumer<FileEvent> listener) {
        FsPaths.validate(path);
        requireNonNull(listener, "listener");
        lifecycle.checkStarted();
        CuratorCacheListener l = CuratorCacheListener.builder().forAll((type, oldData, data) -> {
            ChildData node = data != null ? data : oldData;
            if (node == null) {
                return;
            }
            String rel = relPath(node.getPath());
            if (rel == null || !FsPaths.isAtOrBelow(rel, path)) {
                return;
            }
            FileEvent event = switch (type) {
                case NODE_CREATED -> new FileEvent(FileEvent.Type.CREATED, rel, Optional.of(MetadataCodec.decode(data.getData(), rel)));
                case NODE_CHANGED -> new FileEvent(FileEvent.Type.UPDATED, rel, Optional.of(MetadataCodec.decode(data.getData(), rel)));
                case NODE_DELETED -> new FileEvent(FileEvent.Type.DELETED, rel, Optional.empty());
            };
            callbacks.execute(() -> listener.accept(event));
        }).build();
        cache.listenable().addListener(l);
        return () -> cache.listenable().removeListener(l);
    }

    /** The store's name. */
    public String name() {
        return name;
    }

    /** Stops the local copy and the watchers. Idempotent. */
    @Override
    public void close() {
        if (lifecycle.close()) {
            cache.close();
            callbacks.close();
        }
    }

    // ---- machinery ----

    private String zkPath(String path) {
        return path.equals("/") ? base : base + path;
    }

    private String relPath(String zkPath) {
        if (zkPath.equals(base)) {
            return "/";
        }
        return zkPath.startsWith(base + "/") ? zkPath.substring(base.length()) : null;
    }

    private boolean exists(String zkPath) {
        try {
            return curator.checkExists().forPath(zkPath) != null;
        } catch (Exception e) {
            throw ZkErrors.translate(e, "reading " + zkPath);
        }
    }

    private boolean isDirectory(String zkPath) {
        try {
            return MetadataCodec.decode(curator.getData().forPath(zkPath), zkPath).isDirectory();
        } catch (KeeperException.NoNodeException e) {
            return false;
        } catch (Exception e) {
            throw ZkErrors.translate(e, "reading " + zkPath);
        }
    }

    /** The parents of {@code path} that do not exist yet, top down; fails if an existing one is a file. */
    private List<String> missingParents(String path) {
        List<String> missing = new ArrayList<>();
        for (String p = FsPaths.parent(path); !p.equals("/"); p = FsPaths.parent(p)) {
            if (exists(zkPath(p))) {
                if (!isDirectory(zkPath(p))) {
                    throw new NotADirectoryException("'" + p + "' in file store '" + name + "' is a file, so '" + path
                            + "' cannot be created below it");
                }
                break;
            }
            missing.add(0, p);
        }
        return missing;
    }

    /** {@code zkPath} and everything below it, parents before children. */
    private List<String> subtree(String zkPath) throws Exception {
        List<String> result = new ArrayList<>();
        result.add(zkPath);
        for (int i = 0; i < result.size(); i++) {
            String node = result.get(i);
            for (String child : curator.getChildren().forPath(node)) {
                result.add(node + "/" + child);
            }
        }
        return result;
    }

    /** Waits until the local copy shows {@code zkPath} at least as of transaction {@code mzxid}. */
    private void awaitLocal(String zkPath, long mzxid) throws InterruptedException {
        awaitCache(() -> cache.get(zkPath).map(d -> d.getStat().getMzxid() >= mzxid).orElse(false));
    }

    /** Waits until the local copy shows at least what the ensemble has now at {@code zkPath}; its version. */
    private int awaitLocal(String zkPath) throws InterruptedException {
        Stat target;
        try {
            target = curator.checkExists().forPath(zkPath);
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            throw ZkErrors.translate(e, "reading " + zkPath);
        }
        if (target == null) {
            return -1;
        }
        awaitCache(() -> cache.get(zkPath).map(d -> d.getStat().getMzxid() >= target.getMzxid()).orElse(false));
        return target.getVersion();
    }

    private void awaitLocalGone(String zkPath) throws InterruptedException {
        awaitCache(() -> cache.get(zkPath).isEmpty());
    }

    private void awaitCache(java.util.function.BooleanSupplier caughtUp) throws InterruptedException {
        long deadline = System.currentTimeMillis() + CACHE_WAIT_MILLIS;
        synchronized (cacheMoved) {
            while (!caughtUp.getAsBoolean()) {
                long left = deadline - System.currentTimeMillis();
                if (left <= 0) {
                    return;
                }
                cacheMoved.wait(left);
            }
        }
    }
}
