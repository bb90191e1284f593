package dev.zkrecipes.config;

import static java.util.Objects.requireNonNull;

import dev.zkrecipes.config.internal.FsPaths;
import dev.zkrecipes.config.internal.LocalCopy;
import dev.zkrecipes.config.internal.MetadataCodec;
import dev.zkrecipes.config.internal.StoreDirectory;
import dev.zkrecipes.core.AlreadyExistsException;
import dev.zkrecipes.core.ConnectionLossException;
import dev.zkrecipes.core.CorruptDataException;
import dev.zkrecipes.core.DirectoryNotEmptyException;
import dev.zkrecipes.core.NoSuchPathException;
import dev.zkrecipes.core.NotADirectoryException;
import dev.zkrecipes.core.VersionConflictException;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.core.internal.Background;
import dev.zkrecipes.core.internal.ClientRecipes;
import dev.zkrecipes.core.internal.Deadline;
import dev.zkrecipes.core.internal.Lifecycle;
import dev.zkrecipes.core.internal.PayloadLimit;
import dev.zkrecipes.core.internal.RecipePaths;
import dev.zkrecipes.core.internal.SerialExecutor;
import dev.zkrecipes.core.internal.ZkErrors;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 * retry policy and then throw {@link ConnectionLossException} (outcome unknown). Each write stores a
 * write id in the metadata it writes, so a create, update or rename whose reply was lost (and which
 * Curator's retry then found "already there" or "changed") is recognised as this call's own and
 * returns normally; a delete that finds the entry gone on its retry returns normally (the entry
 * existed when the call began and is gone).
 *
 * <p><b>A tree stays a tree:</b> a create checks, in its own transaction, that the nearest existing
 * parent is still the directory it read, and (through that parent's parent, whose version every
 * removal of a directory bumps) that it was not removed and re-created meanwhile: a parent replaced
 * by a file fails the create with {@link NotADirectoryException}; {@code update} never changes an entry's type; a recursive delete
 * racing creates below it reads the subtree again. Paths are limited to
 * {@value FsPaths#MAX_PATH_BYTES} UTF-8 bytes and {@value FsPaths#MAX_DEPTH} levels, and a create's
 * whole request (with its parents) is sized before sending. Metadata this library cannot read
 * (another tool's, a newer format) is a {@link CorruptDataException} from {@code stat} and
 * {@code update}, never served as metadata and never overwritten. After {@link #close()} every call
 * throws {@link IllegalStateException}. After a reconnect or a new session
 * the copy is read again and watchers hear what changed meanwhile.
 */
public final class FileMetadataStore implements AutoCloseable {

    private static final Duration DEFAULT_OPEN_TIMEOUT = Duration.ofSeconds(15);
    private static final Logger LOG = LoggerFactory.getLogger(FileMetadataStore.class);
    private static final long CACHE_WAIT_MILLIS = 5_000;
    /** Bytes of a request around its ops, and per op around its path and data (headers, ACL, mode). */
    private static final long REQUEST_OVERHEAD = 1024;
    private static final long OP_OVERHEAD = 96;
    private static final byte[] DIRECTORY = MetadataCodec.encode(FileMetadata.directory());

    private final ZkRecipes zk;
    private final CuratorFramework curator;
    private final String name;
    private final String base;
    private final CuratorCache cache;
    /** Reads of the tree that the cache was refused (NOAUTH) in the background: every call throws them. */
    private final LocalCopy.Refusals refusals;
    private final SerialExecutor callbacks;
    private final Lifecycle lifecycle;
    private final Object cacheMoved = new Object();
    /** Paths this store wrote (zxid of the write) that the local copy had not shown in time. */
    private final Map<String, Long> lagging = new ConcurrentHashMap<>();
    /** Names this store moved entries away from, until when the copy may still show them (nanoTime). */
    private final Map<String, Long> goneUntil = new ConcurrentHashMap<>();
    private static final long GONE_MARK_SECONDS = 60;

    private FileMetadataStore(ZkRecipes zk, String name) {
        this.zk = zk;
        this.curator = zk.curator();
        this.name = name;
        this.base = RecipePaths.fs(name);
        this.refusals = new LocalCopy.Refusals("file store '" + name + "' (" + base + ")");
        this.cache = LocalCopy.build(curator, base, refusals);
        this.callbacks = SerialExecutor.forCallbacks("fs-" + name, zk.curator());
        this.lifecycle = new Lifecycle("FileMetadataStore('" + name + "')");
    }

    /**
     * Opens store {@code name}, creating its root directory if needed, and returns once the local
     * copy holds the whole tree (waits up to 15 s).
     *
     * @throws IllegalArgumentException if {@code name} is not a valid recipe name
     * @throws dev.zkrecipes.core.NotAuthorizedException if the store exists and this client's identity
     *         may not read all of it (never an empty or partial store)
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

    /**
     * The names of the file stores on this ensemble (in the client's namespace), sorted: every node
     * under {@code /zkr/fs} marked as a store's root. Reads only; creates nothing.
     *
     * @throws ConnectionLossException if the ensemble cannot be reached within the retry policy
     */
    public static List<String> names(ZkRecipes zk) {
        requireNonNull(zk, "zk");
        zk.checkStarted();
        return StoreDirectory.names(zk.curator(), RecipePaths.FS_ROOT, data -> MetadataCodec.storeOf(data) != null, false);
    }

    /**
     * Deletes file store {@code name} with every entry in it, for every client. Stores of that name
     * that are open elsewhere fail their next write with {@link NoSuchPathException}.
     *
     * <p>Connection loss: past the retry policy,
     * {@link dev.zkrecipes.core.ConnectionLossException}, the outcome unknown. A retry after a lost
     * reply may find nothing and report false although this call deleted the store.
     *
     * @return true if it existed
     * @throws IllegalArgumentException if {@code name} is not a valid recipe name
     */
    public static boolean deleteStore(ZkRecipes zk, String name) {
        requireNonNull(zk, "zk");
        String path = RecipePaths.fs(name);
        zk.checkStarted();
        try {
            zk.curator().delete().guaranteed().deletingChildrenIfNeeded().forPath(path);
            return true;
        } catch (KeeperException.NoNodeException gone) {
            return false;
        } catch (Exception e) {
            throw ZkErrors.translate(zk.curator(), e, "deleting file store '" + name + "'");
        }
    }

    private void start(Duration timeout) throws InterruptedException {
        // every request in the background, within the open's bound: Curator's foreground calls
        // would block through the whole retry policy on an unreachable ensemble
        Deadline deadline = Deadline.after(timeout);
        lifecycle.start();
        ClientRecipes.opened(zk, this);
        try {
            refuseNestedInAnotherStore(deadline);
            CuratorEvent created = Background.callServed(curator, deadline, cb -> curator.create()
                    .creatingParentsIfNeeded().inBackground(cb).forPath(base, MetadataCodec.storeRoot(name)));
            if (created.getResultCode() == KeeperException.Code.NODEEXISTS.intValue()) {
                // opened before, maybe by another identity: a root we may not read fails here, with
                // its own typed error, instead of opening as an empty store
                Background.succeeded(Background.callServed(curator, deadline,
                        cb -> curator.getChildren().inBackground(cb).forPath(base)));
            } else {
                Background.succeeded(created);
            }
        } catch (RuntimeException | InterruptedException e) {
            close();
            throw e;
        } catch (Exception e) {
            close();
            // Known limit: a root create still on its way when the bound passed may land later (as
            // one whose retries gave up could before); a store opened meanwhile above this name
            // then holds it inside its tree, and refuses to open until it is removed
            throw ZkErrors.translate(curator, e, "opening the root of file store '" + name + "'");
        }
        LocalCopy.start(cache, CuratorCacheListener.builder()
                .forAll((type, oldData, data) -> {
                    if (type == CuratorCacheListener.Type.NODE_DELETED && oldData != null) {
                        // the copy caught up with a delete or move of ours
                        lagging.remove(oldData.getPath(), Long.MAX_VALUE);
                        goneUntil.remove(oldData.getPath());
                    }
                    synchronized (cacheMoved) {
                        cacheMoved.notifyAll();
                    }
                })
                .build(), Duration.ofNanos(deadline.remainingNanos()), "file store '" + name + "' (" + base + ")",
                refusals, this::close);
        for (ChildData d : cache.stream().toList()) {
            String nested = d.getPath().equals(base) ? null : MetadataCodec.storeOf(d.getData());
            if (nested != null) {
                close();
                throw new IllegalArgumentException("file store '" + name + "' holds file store '" + nested + "' inside"
                        + " its tree; store names must not nest (use 'warehouse-eu', not 'warehouse/eu')");
            }
        }
    }

    /** Store names must not nest: the inner store's root would be an entry of the outer one. */
    private void refuseNestedInAnotherStore(Deadline deadline) throws Exception {
        String[] segments = name.split("/");
        StringBuilder prefix = new StringBuilder();
        for (int i = 0; i < segments.length - 1; i++) {
            prefix.append(i == 0 ? "" : "/").append(segments[i]);
            String outerPath = RecipePaths.fs(prefix.toString());
            CuratorEvent read = Background.callServed(curator, deadline,
                    cb -> curator.getData().inBackground(cb).forPath(outerPath));
            if (read.getResultCode() == KeeperException.Code.NONODE.intValue()) {
                continue; // no store there
            }
            String outer = MetadataCodec.storeOf(Background.succeeded(read).getData());
            if (outer != null) {
                throw new IllegalArgumentException("file store '" + name + "' would lie inside file store '" + outer
                        + "'; store names must not nest (use 'warehouse-eu', not 'warehouse/eu')");
            }
        }
    }

    // ---- reads ----

    /**
     * The metadata of {@code path} with its version, from the local copy; empty if there is no such
     * entry.
     *
     * @throws dev.zkrecipes.core.NotAuthorizedException if the local copy was refused a read in the
     *         background since {@link #open} (an entry created by an identity that does not grant this
     *         one READ): the copy is incomplete, so it is not served
     */
    public Optional<Versioned<FileMetadata>> stat(String path) {
        String zkPath = zkPath(FsPaths.validate(path));
        lifecycle.checkStarted();
        refusals.check();
        Optional<ChildData> cached = cache.get(zkPath);
        if (cached.isEmpty()) {
            lagging.remove(zkPath, Long.MAX_VALUE);
        } else if (!lagsOwnWrite(zkPath, cached.get()) && !movedAwayByUs(zkPath)) {
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
            throw ZkErrors.translate(curator, e, "reading '" + path + "' in file store '" + name + "'");
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
            throw ZkErrors.translate(curator, e, "listing '" + path + "' in file store '" + name + "'");
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
        lifecycle.checkStarted();
        if (path.equals("/")) {
            throw new AlreadyExistsException("the root of file store '" + name + "' always exists");
        }
        String writeId = UUID.randomUUID().toString();
        byte[] data = MetadataCodec.encode(metadata, writeId);
        PayloadLimit.check(zk, data, "metadata of '" + path + "'");
        for (int attempt = 0; ; attempt++) {
            List<CuratorOp> ops = new ArrayList<>();
            try {
                Parents parents = parents(path);
                long size = REQUEST_OVERHEAD;
                for (String dir : parents.missing()) {
                    ops.add(curator.transactionOp().create().forPath(zkPath(dir), DIRECTORY));
                    size += DIRECTORY.length + utf8(zkPath(dir)) + OP_OVERHEAD;
                }
                // the nearest existing ancestor must still be the directory we read: checked in the
                // same transaction, so a parent replaced by a file meanwhile fails the create
                addParentChecks(ops, parents);
                ops.add(curator.transactionOp().create().forPath(zkPath(path), data));
                size += data.length + utf8(zkPath(path)) + 2 * utf8(zkPath(parents.existing())) + 3 * OP_OVERHEAD;
                PayloadLimit.check(zk, size, "creating '" + path + "' with " + parents.missing().size() + " parent directories");
                curator.transaction().forOperations(ops);
                awaitLocal(zkPath(path));
                // a new znode is at version 0; a later version would be another client's update
                return new Versioned<>(metadata, 0);
            } catch (KeeperException.NodeExistsException e) {
                if (writtenBy(zkPath(path), writeId)) {
                    // our own create, applied, its reply lost and Curator's retry then found it
                    awaitLocalQuietly(zkPath(path));
                    return new Versioned<>(metadata, 0);
                }
                if (ops.size() <= 2 || attempt >= 3 || exists(zkPath(path))) {
                    throw new AlreadyExistsException("'" + path + "' already exists in file store '" + name + "'", e);
                }
                // another client made one of the parents meanwhile: look again
            } catch (KeeperException.NoNodeException | KeeperException.BadVersionException changed) {
                if (writtenBy(zkPath(path), writeId)) {
                    awaitLocalQuietly(zkPath(path));
                    return new Versioned<>(metadata, 0);
                }
                if (attempt >= 10) {
                    throw new VersionConflictException("the parents of '" + path + "' in file store '" + name
                            + "' kept changing during the create; retry", changed);
                }
                // a parent changed or vanished between our read and the transaction: look again
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw ZkErrors.translate(curator, e, "creating '" + path + "' in file store '" + name + "'");
            }
        }
    }

    /** Creates directory {@code path} and its missing parents; does nothing if it exists. */
    public void mkdirs(String path) {
        FsPaths.validate(path);
        lifecycle.checkStarted();
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
        lifecycle.checkStarted();
        String writeId = UUID.randomUUID().toString();
        byte[] data = PayloadLimit.check(zk, MetadataCodec.encode(metadata, writeId), "metadata of '" + path + "'");
        String zkPath = zkPath(path);
        try {
            Stat now = new Stat();
            FileMetadata current = MetadataCodec.decode(curator.getData().storingStatIn(now).forPath(zkPath), path);
            if (current.isDirectory() != metadata.isDirectory()) {
                throw new IllegalArgumentException("'" + path + "' in file store '" + name + "' is a "
                        + (current.isDirectory() ? "directory" : "file") + "; update keeps an entry's type: delete it and"
                        + " create it again to change it");
            }
            Stat written = curator.setData().withVersion(expectedVersion).forPath(zkPath, data);
            awaitLocal(zkPath, written.getMzxid());
            return new Versioned<>(metadata, written.getVersion());
        } catch (KeeperException.BadVersionException e) {
            Stat stat = new Stat();
            if (writtenBy(zkPath, writeId, stat)) {
                // our own update, applied, its reply lost and Curator's retry then found a new version
                awaitLocalQuietly(zkPath);
                return new Versioned<>(metadata, stat.getVersion());
            }
            throw new VersionConflictException("'" + path + "' in file store '" + name + "' is no longer at version "
                    + expectedVersion + ": another client updated it first; stat it again and retry", e);
        } catch (KeeperException.NoNodeException e) {
            throw new NoSuchPathException("'" + path + "' does not exist in file store '" + name + "'", e);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw ZkErrors.translate(curator, e, "updating '" + path + "' in file store '" + name + "'");
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
        lifecycle.checkStarted();
        if (path.equals("/")) {
            throw new IllegalArgumentException("the root of file store '" + name + "' cannot be deleted");
        }
        String zkPath = zkPath(path);
        boolean directory;
        try {
            directory = MetadataCodec.decode(curator.getData().forPath(zkPath), path).isDirectory();
        } catch (KeeperException.NoNodeException e) {
            throw new NoSuchPathException("'" + path + "' does not exist in file store '" + name + "'", e);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw ZkErrors.translate(curator, e, "deleting '" + path + "' in file store '" + name + "'");
        }
        for (int attempt = 0; ; attempt++) {
            try {
                if (!directory) {
                    curator.delete().forPath(zkPath);
                } else if (!recursive) {
                    curator.transaction().forOperations(curator.transactionOp().delete().forPath(zkPath), bumpParentOf(path));
                } else {
                    List<String> subtree = readSubtree(zkPath).stream().map(Copied::path).toList();
                    List<CuratorOp> ops = new ArrayList<>();
                    long size = REQUEST_OVERHEAD;
                    for (int i = subtree.size() - 1; i >= 0; i--) {
                        ops.add(curator.transactionOp().delete().forPath(subtree.get(i)));
                        size += utf8(subtree.get(i)) + OP_OVERHEAD;
                    }
                    ops.add(bumpParentOf(path));
                    if (size + 2048 < zk.maxPayloadBytes()) {
                        curator.transaction().forOperations(ops);
                    } else {
                        // too big for one transaction: bottom up, then the parent's bump on its own
                        curator.delete().deletingChildrenIfNeeded().forPath(zkPath);
                        curator.transaction().forOperations(bumpParentOf(path));
                    }
                }
                awaitLocalGone(zkPath);
                return;
            } catch (KeeperException.NoNodeException gone) {
                // It existed when this call began and is gone now: deleted by this call (a retry
                // after a lost reply finds nothing) or by another client at the same moment.
                // Either way the entry the caller asked to delete no longer exists.
                if (!exists(zkPath)) {
                    awaitLocalGoneQuietly(zkPath);
                    return;
                }
                // only something below it vanished: read the subtree again
            } catch (KeeperException.NotEmptyException e) {
                if (!recursive) {
                    throw new DirectoryNotEmptyException("'" + path + "' in file store '" + name
                            + "' is a directory with entries; delete them first or delete recursively", e);
                }
                if (attempt >= 100) {
                    throw new VersionConflictException("entries kept appearing below '" + path + "' in file store '"
                            + name + "' during the recursive delete; retry", e);
                }
                // another client created an entry below meanwhile: read the subtree again
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw ZkErrors.translate(curator, e, "deleting '" + path + "' in file store '" + name + "'");
            }
        }
    }

    /**
     * Moves a file, or a directory with everything below it, from {@code from} to {@code to} in one
     * ZooKeeper transaction: every reader sees either the old names or the new ones, never both or
     * neither. Versions start again at 0 under the new names.
     *
     * Missing parent directories of {@code to} are created in the same transaction.
     *
     * @throws NoSuchPathException if {@code from} does not exist
     * @throws AlreadyExistsException if {@code to} exists
     * @throws NotADirectoryException if a parent of {@code to} is a file
     * @throws dev.zkrecipes.core.PayloadTooLargeException if the subtree does not fit in one
     *         transaction; nothing was moved
     * @throws VersionConflictException if the subtree kept changing during the move; nothing was moved
     */
    public void rename(String from, String to) {
        FsPaths.validate(from);
        FsPaths.validate(to);
        lifecycle.checkStarted();
        String writeId = UUID.randomUUID().toString();
        if (from.equals("/") || FsPaths.isAtOrBelow(to, from)) {
            throw new IllegalArgumentException("cannot move '" + from + "' to '" + to + "': into itself");
        }
        for (int attempt = 0; attempt < 10; attempt++) {
            try {
                String fromZk = zkPath(from);
                // missing parents of the target are made in the same transaction, and the nearest
                // existing one must still be the directory we read (read first: the subtree's read
                // and the transaction follow each other as closely as they can)
                Parents parents = parents(to);
                List<Copied> subtree = readSubtree(fromZk);
                if (subtree.isEmpty()) {
                    throw new NoSuchPathException("'" + from + "' does not exist in file store '" + name + "'");
                }
                List<CuratorOp> ops = new ArrayList<>();
                long size = REQUEST_OVERHEAD;
                for (String dir : parents.missing()) {
                    ops.add(curator.transactionOp().create().forPath(zkPath(dir), DIRECTORY));
                    size += DIRECTORY.length + utf8(zkPath(dir)) + OP_OVERHEAD;
                }
                addParentChecks(ops, parents);
                size += 2 * (utf8(zkPath(parents.existing())) + OP_OVERHEAD);
                List<Integer> versions = new ArrayList<>();
                for (Copied node : subtree) {
                    versions.add(node.version());
                    String target = zkPath(to) + node.path().substring(fromZk.length());
                    byte[] moved = MetadataCodec.withWriteId(node.data(), relPath(node.path()), writeId);
                    ops.add(curator.transactionOp().create().forPath(target, moved));
                    size += moved.length + utf8(target) + utf8(node.path()) + 2 * OP_OVERHEAD;
                }
                for (int i = subtree.size() - 1; i >= 0; i--) {
                    // at the version we copied: an update that lands meanwhile fails the move, not vanishes
                    ops.add(curator.transactionOp().delete().withVersion(versions.get(i)).forPath(subtree.get(i).path()));
                }
                if (MetadataCodec.decode(subtree.get(0).data(), from).isDirectory()) {
                    ops.add(bumpParentOf(from));
                    size += utf8(zkPath(FsPaths.parent(from))) + 1024 + OP_OVERHEAD;
                }
                PayloadLimit.check(zk, size, "moving '" + from + "' with " + subtree.size() + " entries in one transaction");
                curator.transaction().forOperations(ops);
                // every moved entry, not just the top: the local copy learns of them one by one
                // Read-your-writes without waiting for the local copy to learn of every moved entry:
                // a new name the copy lacks is read from the ensemble anyway (stat confirms misses),
                // and each old name is marked so that stat reads the ensemble until the copy drops it.
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(GONE_MARK_SECONDS);
                for (Copied old : subtree) {
                    // even if the copy does not show it (yet): a create it has still to apply would bring it back
                    goneUntil.put(old.path(), until);
                }
                return;
            } catch (KeeperException.NodeExistsException e) {
                if (writtenBy(zkPath(to), writeId) && !exists(zkPath(from))) {
                    // our own move, applied, its reply lost and Curator's retry then found the target
                    awaitLocalQuietly(zkPath(to));
                    return;
                }
                throw new AlreadyExistsException("'" + to + "' already exists in file store '" + name + "'", e);
            } catch (KeeperException.NoNodeException | KeeperException.NotEmptyException | KeeperException.BadVersionException changed) {
                if (writtenBy(zkPath(to), writeId) && !exists(zkPath(from))) {
                    awaitLocalQuietly(zkPath(to));
                    return;
                }
                if (!exists(zkPath(from))) {
                    throw new NoSuchPathException("'" + from + "' does not exist in file store '" + name + "'", changed);
                }
                // an entry appeared or vanished below 'from' while we read it: read again
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw ZkErrors.translate(curator, e, "moving '" + from + "' to '" + to + "' in file store '" + name + "'");
            }
        }
        throw new VersionConflictException("'" + from + "' in file store '" + name + "' kept changing during the move; retry");
    }

    /**
     * Calls {@code listener} for every entry created, updated or deleted at or below {@code path},
     * from now on, one at a time, in order, on the client's callback threads.
     *
     * @return a handle whose {@code close()} stops the watch
     */
    public AutoCloseable watch(String path, Consumer<FileEvent> listener) {
        FsPaths.validate(path);
        requireNonNull(listener, "listener");
        lifecycle.checkStarted();
        refusals.check();
        CuratorCacheListener l = CuratorCacheListener.builder().forAll((type, oldData, data) -> {
            ChildData node = data != null ? data : oldData;
            if (node == null) {
                return;
            }
            String rel = relPath(node.getPath());
            if (rel == null || !FsPaths.isAtOrBelow(rel, path)) {
                return;
            }
            FileEvent event;
            try {
                event = switch (type) {
                    case NODE_CREATED -> new FileEvent(FileEvent.Type.CREATED, rel, Optional.of(MetadataCodec.decode(data.getData(), rel)));
                    case NODE_CHANGED -> new FileEvent(FileEvent.Type.UPDATED, rel, Optional.of(MetadataCodec.decode(data.getData(), rel)));
                    case NODE_DELETED -> new FileEvent(FileEvent.Type.DELETED, rel, Optional.empty());
                };
            } catch (CorruptDataException unreadable) {
                LOG.error("file store '{}': {}; the change is not reported", name, unreadable.getMessage());
                return;
            }
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
            ClientRecipes.closed(zk, this);
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
            throw ZkErrors.translate(curator, e, "reading " + zkPath);
        }
    }

    private boolean isDirectory(String zkPath) {
        try {
            return MetadataCodec.decode(curator.getData().forPath(zkPath), zkPath).isDirectory();
        } catch (KeeperException.NoNodeException e) {
            return false;
        } catch (Exception e) {
            throw ZkErrors.translate(curator, e, "reading " + zkPath);
        }
    }

    /** What a create needs to know of the path above it. */
    private record Parents(List<String> missing, String existing, int existingVersion, String above, int aboveVersion) {
    }

    /**
     * The checks that make a create below {@code parents} safe: the nearest existing parent is still
     * the directory we read (its version), and it was not removed and re-created meanwhile (its own
     * parent's version: removing a directory bumps its parent's version in the same transaction,
     * because a re-created node starts at version 0 again and a version check alone cannot tell).
     */
    private void addParentChecks(List<CuratorOp> ops, Parents parents) throws Exception {
        ops.add(curator.transactionOp().check().withVersion(parents.existingVersion()).forPath(zkPath(parents.existing())));
        if (parents.above() != null) {
            ops.add(curator.transactionOp().check().withVersion(parents.aboveVersion()).forPath(zkPath(parents.above())));
        }
    }

    /**
     * The op that bumps the version of the directory holding {@code removed}, for a transaction that
     * removes directory {@code removed}: creates below it that read it before then fail their check.
     */
    private CuratorOp bumpParentOf(String removed) throws Exception {
        String parent = FsPaths.parent(removed);
        byte[] data = curator.getData().forPath(zkPath(parent));
        return curator.transactionOp().setData().forPath(zkPath(parent), data);
    }

    /**
     * The parents of {@code path} that do not exist yet (top down), and the nearest one that does,
     * with its version as read now; fails if that one is a file.
     */
    private Parents parents(String path) {
        List<String> missing = new ArrayList<>();
        for (String p = FsPaths.parent(path); ; p = FsPaths.parent(p)) {
            try {
                Stat stat = new Stat();
                byte[] data = curator.getData().storingStatIn(stat).forPath(zkPath(p));
                if (!MetadataCodec.decode(data, p).isDirectory()) {
                    throw new NotADirectoryException("'" + p + "' in file store '" + name + "' is a file, so '" + path
                            + "' cannot be created below it");
                }
                String above = p.equals("/") ? null : FsPaths.parent(p);
                int aboveVersion = -1;
                if (above != null) {
                    Stat aboveStat = curator.checkExists().forPath(zkPath(above));
                    // gone already: check existence only, and the transaction fails on it
                    aboveVersion = aboveStat == null ? -1 : aboveStat.getVersion();
                }
                return new Parents(missing, p, stat.getVersion(), above, aboveVersion);
            } catch (KeeperException.NoNodeException e) {
                if (p.equals("/")) {
                    throw new NoSuchPathException("the root of file store '" + name + "' is gone (deleted by hand?);"
                            + " open the store again to recreate it", e);
                }
                missing.add(0, p);
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw ZkErrors.translate(curator, e, "reading the parents of '" + path + "' in file store '" + name + "'");
            }
        }
    }

    /** True if the entry at {@code zkPath} was stored by the write {@code writeId}. */
    private boolean writtenBy(String zkPath, String writeId) {
        return writtenBy(zkPath, writeId, new Stat());
    }

    private boolean writtenBy(String zkPath, String writeId, Stat stat) {
        try {
            return writeId.equals(MetadataCodec.writeIdOf(curator.getData().storingStatIn(stat).forPath(zkPath)));
        } catch (KeeperException.NoNodeException e) {
            return false;
        } catch (Exception e) {
            throw ZkErrors.translate(curator, e, "reading back " + zkPath + " in file store '" + name + "'");
        }
    }

    private static long utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    /** One entry of a subtree as read for a move: its path, data and version. */
    private record Copied(String path, byte[] data, int version) {
    }

    /**
     * {@code zkPath} and everything below it with data and version, parents before children; empty
     * if {@code zkPath} does not exist. Each level's reads are sent together (pipelined), so a
     * subtree costs one round trip per level, not one per entry.
     */
    private List<Copied> readSubtree(String zkPath) throws Exception {
        List<Copied> result = new ArrayList<>();
        List<String> level = List.of(zkPath);
        while (!level.isEmpty()) {
            // the data of a whole level at once; then the children of only those that have any
            // (the stat says), so a flat directory of files costs no read of children per file
            List<CompletableFuture<CuratorEvent>> data = new ArrayList<>();
            for (String node : level) {
                data.add(Background.send(cb -> curator.getData().inBackground(cb).forPath(node)));
            }
            List<String> parents = new ArrayList<>();
            List<CompletableFuture<CuratorEvent>> children = new ArrayList<>();
            for (int i = 0; i < level.size(); i++) {
                String node = level.get(i);
                CuratorEvent d = Background.await(Deadline.never(), data.get(i));
                if (d.getResultCode() == KeeperException.Code.NONODE.intValue()) {
                    if (node.equals(zkPath)) {
                        return List.of();
                    }
                    // vanished while we read: the move's version checks fail and it reads again
                    throw KeeperException.create(KeeperException.Code.NONODE, node);
                }
                Background.succeeded(d);
                result.add(new Copied(node, d.getData(), d.getStat().getVersion()));
                if (d.getStat().getNumChildren() > 0) {
                    parents.add(node);
                    children.add(Background.send(cb -> curator.getChildren().inBackground(cb).forPath(node)));
                }
            }
            List<String> next = new ArrayList<>();
            for (int i = 0; i < parents.size(); i++) {
                CuratorEvent c = Background.await(Deadline.never(), children.get(i));
                if (c.getResultCode() == KeeperException.Code.OK.intValue()) {
                    for (String child : c.getChildren()) {
                        next.add(parents.get(i) + "/" + child);
                    }
                }
            }
            level = next;
        }
        return result;
    }

    /** Waits until the local copy shows {@code zkPath} at least as of transaction {@code mzxid}. */
    private void awaitLocal(String zkPath, long mzxid) throws InterruptedException {
        if (!awaitCache(() -> cache.get(zkPath).map(d -> d.getStat().getMzxid() >= mzxid).orElse(false))) {
            markLagging(zkPath, mzxid);
        }
    }

    /** Waits until the local copy shows at least what the ensemble has now at {@code zkPath}; its version. */
    private int awaitLocal(String zkPath) throws InterruptedException {
        Stat target;
        try {
            target = curator.checkExists().forPath(zkPath);
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            throw ZkErrors.translate(curator, e, "reading " + zkPath);
        }
        if (target == null) {
            return -1;
        }
        if (!awaitCache(() -> cache.get(zkPath).map(d -> d.getStat().getMzxid() >= target.getMzxid()).orElse(false))) {
            markLagging(zkPath, target.getMzxid());
        }
        return target.getVersion();
    }

    private void awaitLocalGone(String zkPath) throws InterruptedException {
        if (!awaitCache(() -> cache.get(zkPath).isEmpty())) {
            // a miss is read from the ensemble anyway; a stale hit must be too
            markLagging(zkPath, Long.MAX_VALUE);
        }
    }

    /** Waits for the local copy; false if it did not catch up in time (the caller then marks the path). */
    private boolean awaitCache(BooleanSupplier caughtUp) throws InterruptedException {
        long deadline = System.currentTimeMillis() + CACHE_WAIT_MILLIS;
        synchronized (cacheMoved) {
            while (!caughtUp.getAsBoolean()) {
                long left = deadline - System.currentTimeMillis();
                if (left <= 0 || lifecycle.isClosed()) {
                    return false;
                }
                cacheMoved.wait(left);
            }
        }
        return true;
    }

    /**
     * True if this store wrote {@code zkPath} more recently than the local copy shows: then stat
     * reads the ensemble, so that a write that returned before the copy caught up is still seen.
     */
    private boolean lagsOwnWrite(String zkPath, ChildData cached) {
        Long written = lagging.get(zkPath);
        if (written == null) {
            return false;
        }
        if (cached != null && cached.getStat().getMzxid() >= written) {
            lagging.remove(zkPath, written);
            return false;
        }
        return true;
    }

    /**
     * True while {@code zkPath} is a name this store moved an entry away from and the local copy may
     * not have applied that yet (its delete event clears the mark; so does time, for a copy that never
     * saw the entry at all).
     */
    private boolean movedAwayByUs(String zkPath) {
        Long until = goneUntil.get(zkPath);
        if (until == null) {
            return false;
        }
        if (System.nanoTime() - until > 0) {
            goneUntil.remove(zkPath, until);
            return false;
        }
        return true;
    }

    private void markLagging(String zkPath, long mzxid) {
        LOG.warn("file store '{}': the local copy has not caught up with this store's write of {} after {} ms;"
                + " stat reads the ensemble for it until it does", name, zkPath, CACHE_WAIT_MILLIS);
        lagging.put(zkPath, mzxid);
    }

    private void awaitLocalQuietly(String zkPath) {
        try {
            awaitLocal(zkPath);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void awaitLocalGoneQuietly(String zkPath) {
        try {
            awaitLocalGone(zkPath);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
