package dev.zkrecipes.core.internal;

import dev.zkrecipes.core.PayloadTooLargeException;
import dev.zkrecipes.core.ZkRecipes;

/** Refuses payloads ZooKeeper would reject, before they are sent. */
public final class PayloadLimit {

    private PayloadLimit() {
    }

    /**
     * Returns {@code data} if it fits under the client's limit.
     *
     * @param what names the payload in the error, e.g. "leader data for election 'x'"
     * @throws PayloadTooLargeException if it does not fit
     */
    public static byte[] check(ZkRecipes zk, byte[] data, String what) {
        check(zk, data.length, what);
        return data;
    }

    /** Like {@link #check(ZkRecipes, byte[], String)} for a size, e.g. the sum of a batch. */
    public static void check(ZkRecipes zk, long size, String what) {
        if (size > zk.maxPayloadBytes()) {
            throw new PayloadTooLargeException(what, size, zk.maxPayloadBytes());
        }
    }
}
