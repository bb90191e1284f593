package dev.zkrecipes.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The invariant checker of fenced writes: every write that landed on the shared resource, keyed by
 * the resource znode's data version (ZooKeeper's own order of the writes), with the fencing token
 * it was written under. The invariant: in that order tokens never go down. A term or holder may
 * write many times under one token, but once a newer token has written, an older one never lands.
 *
 * <p>Negative control: feed it unguarded writes of a superseded holder and {@link #violations()}
 * is not empty.
 */
public final class TokenHistory {

    private final Map<Integer, Long> tokenByVersion = new TreeMap<>();

    /** Records that the write which produced data version {@code version} carried {@code token}. */
    public synchronized void landed(int version, long token) {
        Long previous = tokenByVersion.put(version, token);
        if (previous != null && previous != token) {
            throw new IllegalStateException("two writes claim data version " + version);
        }
    }

    public synchronized int size() {
        return tokenByVersion.size();
    }

    /** The distinct tokens in landing order. */
    public synchronized List<Long> distinctTokens() {
        List<Long> result = new ArrayList<>();
        for (long token : tokenByVersion.values()) {
            if (result.isEmpty() || result.get(result.size() - 1) != token) {
                result.add(token);
            }
        }
        return result;
    }

    /** Every place where a write landed with a token lower than one that landed before it. */
    public synchronized List<String> violations() {
        List<String> problems = new ArrayList<>();
        long highest = Long.MIN_VALUE;
        int highestVersion = -1;
        for (Map.Entry<Integer, Long> e : tokenByVersion.entrySet()) {
            if (e.getValue() < highest) {
                problems.add("version " + e.getKey() + " was written under token " + e.getValue()
                        + " after version " + highestVersion + " under the newer token " + highest);
            } else {
                highest = e.getValue();
                highestVersion = e.getKey();
            }
        }
        return problems;
    }

    @Override
    public synchronized String toString() {
        return "TokenHistory" + tokenByVersion;
    }
}
