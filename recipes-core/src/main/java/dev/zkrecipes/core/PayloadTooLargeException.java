package dev.zkrecipes.core;

/**
 * A payload was refused before anything was sent, because ZooKeeper would reject it: a request
 * larger than {@code jute.maxbuffer} (about 1 MiB by default) is dropped by the server, which also
 * closes the connection. What to do: store large values elsewhere and keep a reference in ZooKeeper,
 * or split the batch.
 */
public class PayloadTooLargeException extends ZkRecipeException {
    private static final long serialVersionUID = 1L;
    private final long size;
    private final long limit;

    public PayloadTooLargeException(String what, long size, long limit) {
        super(what + " is " + size + " bytes, over the limit of " + limit + " bytes (jute.maxbuffer minus"
                + " request overhead); store large values outside ZooKeeper and keep a reference, or split the batch");
        this.size = size;
        this.limit = limit;
    }

    /** The size of the refused payload, in bytes. */
    public long size() {
        return size;
    }

    /** The largest payload the client accepts, in bytes. */
    public long limit() {
        return limit;
    }
}
