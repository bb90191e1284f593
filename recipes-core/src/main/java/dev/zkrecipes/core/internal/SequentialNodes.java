package dev.zkrecipes.core.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Ordering of sequential children: by the 10-digit sequence suffix ZooKeeper appends, ignoring any
 * prefix (Curator's protection prefix {@code _c_<uuid>-} differs per client and must not sort).
 */
public final class SequentialNodes {

    private static final int SUFFIX_LENGTH = 10;
    private static final String PROTECTED_PREFIX = "_c_";
    private static final int UUID_LENGTH = 36;

    private SequentialNodes() {
    }

    /** The sequence number of a sequential node name, or -1 if it has no sequence suffix. */
    public static long sequence(String nodeName) {
        int n = nodeName.length();
        if (n < SUFFIX_LENGTH) {
            return -1;
        }
        long value = 0;
        for (int i = n - SUFFIX_LENGTH; i < n; i++) {
            char c = nodeName.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }

    /** The children that carry a sequence suffix, sorted by it. */
    public static List<String> sorted(List<String> children) {
        List<String> result = new ArrayList<>(children.size());
        for (String child : children) {
            if (sequence(child) >= 0) {
                result.add(child);
            }
        }
        result.sort(Comparator.comparingLong(SequentialNodes::sequence));
        return result;
    }

    /**
     * The children that Curator's protected create made with {@code name} before the sequence
     * ({@code _c_<uuid>-<name><10 digits>}), sorted by sequence. Anything else (a node an operator or
     * another tool put there) is not a participant and is left out.
     */
    public static List<String> sortedProtected(List<String> children, String name) {
        List<String> result = new ArrayList<>(children.size());
        for (String child : children) {
            if (isProtected(child, name)) {
                result.add(child);
            }
        }
        result.sort(Comparator.comparingLong(SequentialNodes::sequence));
        return result;
    }

    /** True for {@code _c_<uuid>-<name><10 digits>}. */
    public static boolean isProtected(String child, String name) {
        int uuidEnd = PROTECTED_PREFIX.length() + UUID_LENGTH;
        if (child.length() != uuidEnd + 1 + name.length() + SUFFIX_LENGTH || !child.startsWith(PROTECTED_PREFIX)
                || child.charAt(uuidEnd) != '-' || !child.startsWith(name, uuidEnd + 1) || sequence(child) < 0) {
            return false;
        }
        for (int i = PROTECTED_PREFIX.length(); i < uuidEnd; i++) {
            char c = child.charAt(i);
            if (!(c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
                return false;
            }
        }
        return true;
    }

    /** The last path segment. */
    public static String nodeName(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }
}
