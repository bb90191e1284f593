package dev.zkrecipes.election;

import java.util.Optional;

/**
 * Hears the leader of an election change, through a {@link LeaderObserver}. Called one at a time,
 * in order, on the client's callback threads, never ZooKeeper's; a listener that throws is logged
 * and ignored.
 */
@FunctionalInterface
public interface LeaderChangeListener {

    /** The leader is now {@code leader}; empty when the election has no participant. */
    void leaderChanged(Optional<Participant> leader);
}
