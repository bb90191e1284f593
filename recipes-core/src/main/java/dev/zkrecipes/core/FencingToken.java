package dev.zkrecipes.core;

/**
 * A fencing token: a number that strictly increases across every holder of the same election or
 * lock, for the life of the ensemble. It is the czxid (creation transaction id) of the holder's
 * znode, which ZooKeeper assigns from one global, ever-increasing counter; unlike the sequence suffix
 * of the node name it does not restart when the recipe's parent node is reaped and recreated.
 *
 * <p>Hand the token to every resource the holder writes to, and have the resource reject any token
 * lower than the highest it has seen: that stops a paused or partitioned former holder, which a
 * lock alone cannot.
 *
 * @param value the czxid of the holder's znode; positive
 */
public record FencingToken(long value) implements Comparable<FencingToken> {

    public FencingToken {
        if (value <= 0) {
            throw new IllegalArgumentException("a fencing token is a znode's czxid and must be positive, got " + value);
        }
    }

    /** The token for a znode's czxid. */
    public static FencingToken of(long czxid) {
        return new FencingToken(czxid);
    }

    /** True when this token is strictly newer than {@code other}. */
    public boolean isNewerThan(FencingToken other) {
        return compareTo(other) > 0;
    }

    @Override
    public int compareTo(FencingToken other) {
        return Long.compare(value, other.value);
    }

    @Override
    public String toString() {
        return Long.toString(value);
    }
}
