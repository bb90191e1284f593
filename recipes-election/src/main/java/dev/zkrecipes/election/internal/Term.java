package dev.zkrecipes.election.internal;

import dev.zkrecipes.core.FencingToken;
import dev.zkrecipes.core.internal.HeldNode;
import dev.zkrecipes.election.Leadership;
import java.util.List;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;

/** A leadership term over the participant's node; validity and guarded commits live in {@link HeldNode}. */
final class Term implements Leadership {

    private final HeldNode node;
    private final String participantId;

    Term(HeldNode node, String participantId) {
        this.node = node;
        this.participantId = participantId;
    }

    HeldNode node() {
        return node;
    }

    @Override
    public FencingToken token() {
        return node.token();
    }

    @Override
    public String participantId() {
        return participantId;
    }

    @Override
    public boolean isValid() {
        return node.isValid();
    }

    @Override
    public CuratorOp guard() {
        return node.guard();
    }

    @Override
    public List<CuratorTransactionResult> commit(CuratorOp... ops) {
        return node.commit(ops);
    }

    @Override
    public String toString() {
        return "Leadership[" + participantId + ", token " + node.token() + ", " + node.state() + "]";
    }
}
