package dev.zkrecipes.election;

/** Why a {@link Leadership} term stopped being valid. */
public enum RevocationReason {
    /** {@link LeaderElector#resign()}: the term is over; the participant rejoined at the back. */
    RESIGNED,
    /**
     * The connection is in doubt (Curator's {@code SUSPENDED}): the term is paused, not over.
     * Exactly one of these follows for the term: {@code elected} with the same term and token when
     * the same session reconnects and its node still leads; or a final {@code revoked} with
     * {@code SESSION_EXPIRED} (the session is gone), {@code NODE_DELETED} (the node was deleted
     * meanwhile), {@code RESIGNED} or {@code CLOSED} (the caller ended it while suspended).
     */
    CONNECTION_SUSPENDED,
    /**
     * The session is gone (expired on the server, or given up by the client after the session
     * timeout without contact): the term is over for good. The participant rejoins with a new node
     * on the new session.
     */
    SESSION_EXPIRED,
    /**
     * The term's node was deleted while the session lived (an operator, another tool), or the
     * participant gave its node up after repeated failures: the term is over for good and the
     * participant rejoins at the back with a new node.
     */
    NODE_DELETED,
    /** {@link LeaderElector#close()}: the participant left the election. */
    CLOSED
}
