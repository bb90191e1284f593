package dev.zkrecipes.lock.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The name of a node in a lock's line: {@code _c_<uuid>-<kind>[.<place>]-<sequence>}, as Curator's
 * protected create makes it from {@code <kind>[.<place>]-}. Anything else under a lock's parent is
 * not ours (an operator's node, another tool's) and takes no part in the line.
 *
 * <p>{@code place} is set only on a read node taken by the holder of the write lock (a downgrade):
 * it is the sequence of that write node, and the read node stands in the line at the write node's
 * place, not at the back. Otherwise a writer queued behind the write node would take the lock when
 * the write node is released, while the downgraded read lock is still held (Curator's CURATOR-621).
 */
public record LockNode(String name, String kind, long place, long sequence) {

    private static final Pattern NAME = Pattern.compile(
            "_c_[0-9a-fA-F-]{36}-([a-z]+)(?:\\.(\\d{10}))?-(\\d{10})");

    /** Orders by place in line; a downgraded read node right behind the write node it came from. */
    private static final Comparator<LockNode> LINE_ORDER =
            Comparator.comparingLong(LockNode::place).thenComparingLong(LockNode::sequence);

    /** The parsed name, or null if {@code name} is not a lock node of ours. */
    public static LockNode parse(String name) {
        Matcher m = NAME.matcher(name);
        if (!m.matches()) {
            return null;
        }
        long sequence = Long.parseLong(m.group(3));
        long place = m.group(2) != null ? Long.parseLong(m.group(2)) : sequence;
        return new LockNode(name, m.group(1), place, sequence);
    }

    /** The kind of a node name ("lock", "read", "write", "permit"), or "" if it is not ours. */
    public static String kindOf(String name) {
        LockNode node = parse(name);
        return node == null ? "" : node.kind();
    }

    /** What to create (before Curator's protection and the sequence) for a node of {@code kind}. */
    public static String prefix(String kind) {
        return kind + "-";
    }

    /** What to create for a node of {@code kind} that takes the place of {@code placeOf} in line. */
    public static String prefix(String kind, String placeOf) {
        LockNode at = parse(placeOf);
        if (at == null) {
            return prefix(kind);
        }
        return kind + "." + String.format("%010d", at.place()) + "-";
    }

    /** The lock nodes among {@code children}, in line order; foreign children are left out. */
    public static List<String> line(List<String> children) {
        List<LockNode> nodes = new ArrayList<>(children.size());
        for (String child : children) {
            LockNode node = parse(child);
            if (node != null) {
                nodes.add(node);
            }
        }
        nodes.sort(LINE_ORDER);
        List<String> names = new ArrayList<>(nodes.size());
        for (LockNode node : nodes) {
            names.add(node.name());
        }
        return names;
    }
}
