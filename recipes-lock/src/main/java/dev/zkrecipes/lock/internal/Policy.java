package dev.zkrecipes.lock.internal;

import java.util.List;

/**
 * Who holds among the nodes of one lock parent, and whom a waiter watches. Node names are
 * {@code <protection>-<kind>-<sequence>}; kinds share one parent so that read and write locks, or
 * permits, see one line.
 */
public interface Policy {

    /** The kind of node this policy creates, e.g. "lock", "read", "write", "permit". */
    String kind();

    /**
     * Decides for the node at {@code index} of {@code line} (sorted by sequence).
     *
     * @return null if that node holds; otherwise the name of the node to watch, or
     *         {@link #WATCH_CHILDREN} to watch the line itself
     */
    String blocker(List<String> line, int index);

    /**
     * True when {@link #blocker} is the only node that keeps the node at {@code index} from holding.
     * Nodes only ever join behind a waiter, so once that blocker is gone the waiter holds, with no
     * need to read the line again: the hand-off saves a round trip.
     */
    default boolean soleBlocker(List<String> line, int index) {
        return false;
    }

    /** Returned by {@link #blocker} when the waiter must watch the whole line. */
    String WATCH_CHILDREN = "";

    /** The kind encoded in a node name, or "" if it has none. */
    static String kindOf(String nodeName) {
        int end = nodeName.length() - 11; // the '-' before the 10-digit sequence
        if (end <= 0 || nodeName.charAt(end) != '-') {
            return "";
        }
        int start = nodeName.lastIndexOf('-', end - 1) + 1;
        return nodeName.substring(start, end);
    }

    /** Exclusive: only the first node of the line holds; each waiter watches its predecessor. */
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
                return index == 1;
            }
        };
    }

    /**
     * Shared among readers: a reader holds when no writer is ahead of it, and watches the nearest
     * writer ahead. {@code ownerHoldsWrite} lets the thread that holds the write lock take the read
     * lock at once (downgrade).
     */
    static Policy read(String writeKind, java.util.function.BooleanSupplier ownerHoldsWrite) {
        return new Policy() {
            @Override
            public String kind() {
                return "read";
            }

            @Override
            public String blocker(List<String> line, int index) {
                if (ownerHoldsWrite.getAsBoolean()) {
                    return null;
                }
                for (int i = index - 1; i >= 0; i--) {
                    if (kindOf(line.get(i)).equals(writeKind)) {
                        return line.get(i);
                    }
                }
                return null;
            }

            @Override
            public boolean soleBlocker(List<String> line, int index) {
                long writersAhead = line.subList(0, index).stream().filter(n -> kindOf(n).equals(writeKind)).count();
                return writersAhead == 1 && !ownerHoldsWrite.getAsBoolean();
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
