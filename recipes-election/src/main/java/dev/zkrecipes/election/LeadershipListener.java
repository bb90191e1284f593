package dev.zkrecipes.election;

/**
 * Hears a participant's terms begin and end. Callbacks run one at a time, in order, on the client's
 * callback threads (never on ZooKeeper's event thread, so blocking here delays only later callbacks
 * of this elector; other recipes' callbacks go on, on other threads). A callback that throws is
 * logged and ignored.
 *
 * <p>Sequence for one term: {@code elected}, then any number of
 * ({@code revoked(CONNECTION_SUSPENDED)}, {@code elected}) pairs while the connection flaps but the
 * session survives, then at most one final {@code revoked} with {@code RESIGNED}, {@code CLOSED},
 * {@code SESSION_EXPIRED} or {@code NODE_DELETED}. A term that a guarded {@code commit} is first to
 * find gone on the server is announced here too.
 */
public interface LeadershipListener {

    /**
     * This participant leads: a new term, or the same term resumed after a suspension (same
     * {@link Leadership#token()}).
     */
    void elected(Leadership leadership);

    /**
     * The term stopped being valid, for {@code reason}. By the time this runs,
     * {@link Leadership#isValid()} is already false.
     */
    void revoked(Leadership leadership, RevocationReason reason);
}
