package dev.zkrecipes.lock.internal;

import dev.zkrecipes.core.LeadershipLostException;
import java.util.List;
import java.util.function.Supplier;

/**
 * Who holds among the nodes of one lock parent, and whom a waiter watches. Node names are described
 * by {@link LockNode}; kinds share one parent so that a mutex, read and write locks of the same name
 * see one line and exclude each other.
 */
public interface Policy {

    /** The kind of node this policy creates, e.g. "lock", "read", "write", "permit". */
    String kind();

    /** The name to create (before protection and sequence) for an acquire by the calling thread. */
    default String nodePrefix() {
        return LockNode.prefix(kind());
    }

    /**
     * Checks a new node of ours against the first line read after its create (which ZooKeeper
     * orders after the create). A node that takes another's place in line is only right while that
     * node is still there and ours.
     *
     * @throws dev.zkrecipes.core.LeadershipLostException if our node took a place it has no right to
     */
    default void checkPlace(List<String> line, String ourNode) {
    }

    /**
     * Decides for the node at {@code index} of {@code line} (in line order).
     *
     * @return null if that node holds; otherwise the name of the node to watch, or
     *         {@link #WATCH_CHILDREN} to watch the line itself
     */
    String blocker(List<String> line, int index);

    /**
     * True when {@link #blocker} is the only node that keeps the node at {@code index} from holding,
     * and no node can ever join ahead of the waiter: once that blocker is gone the waiter holds,
     * with no need to read the line again (the hand-off saves a round trip).
     */
    default boolean soleBlocker(List<String> line, int index) {
        return false;
    }

    /** Returned by {@link #blocker} when the waiter must watch the whole line. */
    String WATCH_CHILDREN = "";

    /** The kind of the writer nodes, which a holder may downgrade to a read node in its place. */
    String WRITE = "write";

    /** The kind of read nodes: the only kind that does not exclude the others. */
    String READ = "read";

    /**
     * Exclusive: only the first node of the line holds; each waiter watches its predecessor. The
     * hand-off fast path is taken only when the one node ahead is not a writer: a holder of the write
     * lock may downgrade, which puts a read node in the line ahead of every waiter.
     */
    static Policy exclusive(String kind) {
        return new Policy() {
            @Override
            public String kind() {
                return kind;
            }

            @Override
            public String blocker(List<String> line, int index) {
                return index == 0 ? null : line.get(index - 1);
            }

            @Override
            public boolean soleBlocker(List<String> line, int index) {
                return index == 1 && !LockNode.kindOf(line.get(0)).equals(WRITE);
            }
        };
    }

    /**
     * Shared among readers: a reader holds when no node of another kind (a writer, or a mutex of the
     * same name) is ahead of it, and watches the nearest such node. {@code ownerWriteNode} gives the
     * write node the calling thread holds, if any: its read lock holds at once and takes that node's
     * place in line (downgrade).
     */
    static Policy read(Supplier<String> ownerWriteNode) {
        return new Policy() {
            @Override
            public String kind() {
                return READ;
            }

            @Override
            public String nodePrefix() {
                String writeNode = ownerWriteNode.get();
                return writeNode == null ? LockNode.prefix(READ) : LockNode.prefix(READ, writeNode);
            }

            @Override
            public void checkPlace(List<String> line, String ourNode) {
                LockNode ours = LockNode.parse(ourNode);
                if (ours == null || ours.place() == ours.sequence()) {
                    return;
                }
                String writeNode = ownerWriteNode.get();
                LockNode placeOf = writeNode == null ? null : LockNode.parse(writeNode);
                if (placeOf == null || placeOf.sequence() != ours.place() || !line.contains(writeNode)) {
                    throw new LeadershipLostException("the write lock this thread held ended before it could take the"
                            + " read lock in its place (downgrade); another writer may hold it now. Close the write"
                            + " lock's handle, then acquire the read lock again");
                }
            }

            @Override
            public String blocker(List<String> line, int index) {
                LockNode node = LockNode.parse(line.get(index));
                if (node != null && node.place() != node.sequence()) {
                    // a downgraded read node, checked at its create: the write node it replaces was ours
                    return null;
                }
                for (int i = index - 1; i >= 0; i--) {
                    if (!LockNode.kindOf(line.get(i)).equals(READ)) {
                        return line.get(i);
                    }
                }
                return null;
            }

            @Override
            public boolean soleBlocker(List<String> line, int index) {
                // nodes that join ahead of a reader (downgrades) are readers: they never block it
                return line.subList(0, index).stream().filter(n -> !LockNode.kindOf(n).equals(READ)).count() == 1;
            }
        };
    }

    /**
     * Up to {@code permits} holders: the first {@code permits} nodes hold. A waiter watches the line,
     * because any holder ahead of it leaving lets it in (waiters wake together; holders do not).
     */
    static Policy permits(int permits) {
        return new Policy() {
            @Override
            public String kind() {
                return "permit";
            }

            @Override
            public String blocker(List<String> line, int index) {
                return index < permits ? null : WATCH_CHILDREN;
            }
        };
    }
}
