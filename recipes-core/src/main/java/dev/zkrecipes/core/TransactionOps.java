package dev.zkrecipes.core;

import static java.util.Objects.requireNonNull;

import dev.zkrecipes.core.internal.ZkErrors;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.zookeeper.CreateMode;

/**
 * Builds the operations of a guarded transaction ({@code Leadership.commit}, {@code LockHandle.commit})
 * without Curator's checked {@code Exception}, so they fit in a lambda:
 *
 * <pre>{@code
 * elector.awaitLeadership(timeout).ifPresent(term ->
 *         term.commit(zk.ops().setData("/jobs/owner", me)));
 * }</pre>
 *
 * Paths are inside the client's namespace, as everywhere else. Building an operation sends nothing;
 * a malformed path fails here with an {@link IllegalArgumentException}.
 */
public final class TransactionOps {

    private final CuratorFramework curator;

    TransactionOps(CuratorFramework curator) {
        this.curator = curator;
    }

    /** Creates a persistent node with {@code data}. */
    public CuratorOp create(String path, byte[] data) {
        return create(path, data, CreateMode.PERSISTENT);
    }

    /** Creates a node of the given mode with {@code data}. */
    public CuratorOp create(String path, byte[] data, CreateMode mode) {
        requireNonNull(data, "data");
        requireNonNull(mode, "mode");
        return build("create", path, () -> curator.transactionOp().create().withMode(mode).forPath(path, data));
    }

    /** Replaces the data of {@code path}, whatever its version. */
    public CuratorOp setData(String path, byte[] data) {
        return setData(path, data, -1);
    }

    /** Replaces the data of {@code path} if its data version is {@code expectedVersion}. */
    public CuratorOp setData(String path, byte[] data, int expectedVersion) {
        requireNonNull(data, "data");
        return build("setData", path, () -> curator.transactionOp().setData().withVersion(expectedVersion).forPath(path, data));
    }

    /** Deletes {@code path}, whatever its version. */
    public CuratorOp delete(String path) {
        return delete(path, -1);
    }

    /** Deletes {@code path} if its data version is {@code expectedVersion}. */
    public CuratorOp delete(String path, int expectedVersion) {
        return build("delete", path, () -> curator.transactionOp().delete().withVersion(expectedVersion).forPath(path));
    }

    /** Fails the transaction unless {@code path} exists. */
    public CuratorOp check(String path) {
        return check(path, -1);
    }

    /** Fails the transaction unless {@code path} exists with data version {@code expectedVersion}. */
    public CuratorOp check(String path, int expectedVersion) {
        return build("check", path, () -> curator.transactionOp().check().withVersion(expectedVersion).forPath(path));
    }

    private interface Builder {
        CuratorOp build() throws Exception;
    }

    private static CuratorOp build(String what, String path, Builder builder) {
        requireNonNull(path, "path");
        try {
            return builder.build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(what + " of '" + path + "': " + e.getMessage(), e);
        } catch (Exception e) {
            throw ZkErrors.translate(e, "building " + what + " of '" + path + "'");
        }
    }
}
