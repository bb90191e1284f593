package dev.zkrecipes.election;

/** Why a {@link Leadership} term stopped being valid. */
public enum RevocationReason {
    /** {@link LeaderElector#resign()}: the term is over; the participant rejoined at the back. */
    RESIGNED,
    /**
     * The connection is in doubt (Curator's {@code SUSPENDED}): the term is paused, not over. Exactly
     * one of two things follows: {@code elected} with the same term and token when the same session
     * reconnects and still leads, or {@code revoked(term, SESSION_EXPIRED)} when it does not.
     */
    CONNECTION_SUSPENDED,
    /**
     * The session is gone (expired on the server, or given up by the client after the session
     * timeout without contact), or the term's node was deleted: the term is over for good. The
     * participant rejoins with a new node on the new session.
     */
    SESSION_EXPIRED,
    /** {@link LeaderElector#close()}: the participant left the election. */
    CLOSED
}
