package dev.zkrecipes.lock.internal;

import dev.zkrecipes.core.FencingToken;
import dev.zkrecipes.core.LeadershipLostException;
import dev.zkrecipes.core.internal.HeldNode;
import dev.zkrecipes.lock.LockHandle;
import dev.zkrecipes.lock.Permit;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;

/** One level of a hold: what {@code acquire} returns; closing it releases that level once. */
public final class Handle implements LockHandle, Permit {

    private final Holding holding;
    private final Consumer<Holding> release;
    private final boolean ownerOnly;
    private final AtomicBoolean closed = new AtomicBoolean();

    /** @param ownerOnly true if only the acquiring thread may close it (locks), false for permits */
    public Handle(Holding holding, Consumer<Holding> release, boolean ownerOnly) {
        this.holding = holding;
        this.release = release;
        this.ownerOnly = ownerOnly;
    }

    private HeldNode node() {
        return holding.node();
    }

    @Override
    public FencingToken token() {
        return node().token();
    }

    @Override
    public boolean isValid() {
        return !closed.get() && node().isValid();
    }

    @Override
    public CuratorOp guard() {
        return node().guard();
    }

    @Override
    public List<CuratorTransactionResult> commit(CuratorOp... ops) {
        if (closed.get()) {
            throw new LeadershipLostException(node().toString()
                    + " was released through this handle; the transaction was not applied");
        }
        return node().commit(ops);
    }

    @Override
    public void close() {
        if (closed.get()) {
            return;
        }
        if (ownerOnly && Thread.currentThread() != holding.owner()) {
            throw new IllegalStateException("a lock handle is released by the thread that acquired it ("
                    + holding.owner().getName() + "), not by " + Thread.currentThread().getName());
        }
        if (closed.compareAndSet(false, true)) {
            release.accept(holding);
        }
    }

    @Override
    public String toString() {
        return "LockHandle[" + node() + (closed.get() ? ", released" : "") + "]";
    }
}
