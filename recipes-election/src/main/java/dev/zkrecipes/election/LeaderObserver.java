package dev.zkrecipes.election;

import static java.util.Objects.requireNonNull;

import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.core.internal.ClientRecipes;
import dev.zkrecipes.core.internal.Lifecycle;
import dev.zkrecipes.core.internal.RecipePaths;
import dev.zkrecipes.election.internal.ElectionWatch;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Follows an election without taking part: who leads, and every change of leader. Useful for
 * clients that route work to the leader, and for operators.
 *
 * <pre>{@code
 * try (LeaderObserver observer = LeaderObserver.of(zk, "scheduler")) {
 *     observer.addListener(leader -> route(leader.map(Participant::dataAsString)));
 * }
 * }</pre>
 *
 * <p>It keeps one watch on the election's children and reads the first node's data when the first
 * node changes. Connection loss: the cached leader is what the ensemble last reported; after a
 * reconnect (same or new session) it reads the election again and reports any change it missed.
 * A change that came and went while the client was cut off is not reported.
 *
 * <p>Rights: an election this client's identity may not read (another identity's, whose ACL does not
 * grant this one READ) is never shown as having no leader. The first read runs in the background, so
 * its refusal is thrown as {@link dev.zkrecipes.core.NotAuthorizedException} by the calls after it
 * ({@link #currentLeader()}, {@link #awaitLeader}, {@link #addListener}, {@link #participants()}),
 * until a later read succeeds (the observer reads again every few seconds, in case the ACL is changed).
 */
public final class LeaderObserver implements AutoCloseable {

    private final ZkRecipes zk;
    private final String electionPath;
    private final ElectionWatch watch;
    private final Lifecycle lifecycle;

    private LeaderObserver(ZkRecipes zk, String name) {
        this.zk = zk;
        this.electionPath = RecipePaths.election(name);
        this.watch = new ElectionWatch(zk.curator(), name, electionPath);
        this.lifecycle = new Lifecycle("LeaderObserver('" + name + "')");
    }

    /**
     * Starts following election {@code name}; the first read happens in the background.
     *
     * @throws IllegalArgumentException if {@code name} is not a valid recipe name
     * @throws IllegalStateException if {@code zk} is not started
     */
    public static LeaderObserver of(ZkRecipes zk, String name) {
        requireNonNull(zk, "zk");
        RecipePaths.validateName(name);
        zk.checkStarted();
        LeaderObserver observer = new LeaderObserver(zk, name);
        observer.lifecycle.start();
        ClientRecipes.opened(zk, observer);
        observer.watch.start();
        return observer;
    }

    /**
     * The leader as of the last change this observer saw (no read); empty before the first read
     * completes or when the election has no participant.
     *
     * @throws dev.zkrecipes.core.NotAuthorizedException if the ensemble refused the last read for lack of rights
     * @throws IllegalStateException if closed (its view would silently go stale)
     */
    public Optional<Participant> currentLeader() {
        lifecycle.checkNotClosed();
        return watch.leader();
    }

    /**
     * Waits until the observed leader satisfies {@code condition}, e.g.
     * {@code awaitLeader(l -> l.isPresent(), timeout)}.
     *
     * @return the leader that satisfied it, or empty on timeout (as {@link Optional} of the
     *         {@link Optional} leader)
     * @throws dev.zkrecipes.core.NotAuthorizedException as soon as the ensemble refuses a read of the
     *         election for lack of rights
     * @throws InterruptedException if interrupted while waiting
     */
    public Optional<Optional<Participant>> awaitLeader(Predicate<Optional<Participant>> condition, Duration timeout)
            throws InterruptedException {
        requireNonNull(condition, "condition");
        requireNonNull(timeout, "timeout");
        lifecycle.checkStarted();
        return watch.await(condition, timeout);
    }

    /**
     * Every participant in election order, read now from the ensemble.
     *
     * @throws dev.zkrecipes.core.NotAuthorizedException if this client's identity may not read the election
     * @throws dev.zkrecipes.core.ConnectionLossException if the ensemble cannot be reached within the retry policy
     */
    public List<Participant> participants() {
        lifecycle.checkStarted();
        return dev.zkrecipes.election.internal.ElectionReader.participants(zk.curator(), electionPath);
    }

    /**
     * Adds a listener; it is called at once with the current leader if one is known, then on every
     * change. Returns this observer.
     *
     * @throws dev.zkrecipes.core.NotAuthorizedException if the ensemble refused the last read for lack of rights
     */
    public LeaderObserver addListener(LeaderChangeListener listener) {
        requireNonNull(listener, "listener");
        lifecycle.checkStarted();
        watch.addListener(listener);
        return this;
    }

    /** Stops following: removes the watch's listener and stops the threads. Idempotent. */
    @Override
    public void close() {
        if (lifecycle.close()) {
            ClientRecipes.closed(zk, this);
            watch.close();
        }
    }
}
