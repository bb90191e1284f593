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

    /** The last path segment. */
    public static String nodeName(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }
}
