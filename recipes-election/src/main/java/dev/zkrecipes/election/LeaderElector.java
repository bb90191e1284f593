package dev.zkrecipes.election;

import static dev.zkrecipes.core.internal.Options.once;
import static java.util.Objects.requireNonNull;

import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.core.internal.ClientRecipes;
import dev.zkrecipes.core.internal.Lifecycle;
import dev.zkrecipes.core.internal.NodePayload;
import dev.zkrecipes.core.internal.PayloadLimit;
import dev.zkrecipes.core.internal.RecipeMetrics;
import dev.zkrecipes.core.internal.RecipePaths;
import dev.zkrecipes.election.internal.Candidate;
import dev.zkrecipes.election.internal.ElectionReader;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * A participant in a leader election: of all participants of the same election (the same name on
 * the same ensemble and namespace), exactly one leads at a time, and every term of leadership has a
 * fencing token greater than all before it.
 *
 * <pre>{@code
 * LeaderElector elector = LeaderElector.builder(zk, "scheduler")
 *         .participantId("node-1")
 *         .listener(myListener)
 *         .build();
 * elector.start();
 * elector.awaitLeadership(Duration.ofSeconds(5)).ifPresent(term -> term.commit(ops));
 * }</pre>
 *
 * <p>How it works: each participant creates an ephemeral sequential node under
 * {@code /zkr/elections/<name>} (with Curator's protection against lost create replies); the lowest
 * leads, each other one watches only the node just ahead of it, so a hand-off wakes one participant.
 *
 * <p>Connection loss: the moment the connection is in doubt, the term is suspended
 * ({@link Leadership#isValid()} false, {@code revoked(term, CONNECTION_SUSPENDED)}). If the same
 * session reconnects and the node still leads, the same term resumes ({@code elected(term)}, same
 * token) instead of going to the back of the line. If the session is lost, the term is over
 * ({@code revoked(term, SESSION_EXPIRED)}) and the participant rejoins with a new node once a new
 * session is up. While the client is cut off, another participant may be elected once the ensemble
 * expires the session: use {@link Leadership#commit} or the token for anything that must not be done
 * by two leaders.
 *
 * <p>Lifecycle: {@link #start()} once, {@link #close()} when done (idempotent); any other call
 * after close throws {@link IllegalStateException}. Thread-safe.
 */
public final class LeaderElector implements AutoCloseable {

    private final ZkRecipes zk;
    private final String name;
    private final String electionPath;
    private final String participantId;
    private final Candidate candidate;
    /** What the client knows this elector by: closing the client ends the term before the session. */
    private final ClientRecipes.SessionScoped registration = new Registration();
    private final Lifecycle lifecycle;

    private LeaderElector(Builder b) {
        this.zk = b.zk;
        this.name = b.name;
        this.electionPath = RecipePaths.election(b.name);
        this.participantId = b.participantId != null ? b.participantId : defaultParticipantId();
        byte[] payload = NodePayload.encode(participantId, b.data != null ? b.data : new byte[0]);
        PayloadLimit.check(zk, payload, "participant data of election '" + name + "'");
        this.candidate = new Candidate(zk.curator(), name, electionPath, participantId, payload, b.listener,
                RecipeMetrics.of(zk));
        this.lifecycle = new Lifecycle("LeaderElector('" + name + "', '" + participantId + "')");
    }

    /**
     * Starts building a participant of election {@code name}.
     *
     * @throws IllegalArgumentException if {@code name} is not a valid recipe name (quoted, with why)
     * @throws NullPointerException if an argument is null
     */
    public static Builder builder(ZkRecipes zk, String name) {
        return new Builder(zk, name);
    }

    /**
     * Joins the election: creates this participant's node in the background and returns at once.
     * If the client is not connected yet, the participant joins when it connects.
     *
     * <p>Rights: if the ensemble refuses this participant its place (the election belongs to another
     * identity, whose ACL does not grant this one), the refusal is found in the background, so it is
     * {@link #awaitLeadership} and {@link #isLeader()} that throw
     * {@link dev.zkrecipes.core.NotAuthorizedException} from then on, until a later attempt succeeds
     * (the participant tries again every few seconds, in case the ACL is changed). To fail at once,
     * call {@link #awaitLeadership} or {@link #participants()} after starting.
     *
     * @throws IllegalStateException if started before, closed, or the client is not started
     */
    public void start() {
        zk.checkStarted();
        lifecycle.start();
        ClientRecipes.opened(zk, registration);
        candidate.start();
    }

    /**
     * True while this participant holds a valid term (connected, not suspended).
     *
     * @throws dev.zkrecipes.core.NotAuthorizedException if the ensemble refused this participant its
     *         place for lack of rights (see {@link #start()}): it is not a waiting participant
     */
    public boolean isLeader() {
        if (candidate.isLeader()) {
            return true;
        }
        candidate.checkRefused();
        return false;
    }

    /**
     * Waits until this participant leads.
     *
     * @return the current term, or empty if the timeout passed first or the elector was closed
     * @throws dev.zkrecipes.core.NotAuthorizedException as soon as the ensemble refuses this
     *         participant its place for lack of rights (see {@link #start()})
     * @throws InterruptedException if interrupted while waiting
     * @throws IllegalStateException if not started
     */
    public Optional<Leadership> awaitLeadership(Duration timeout) throws InterruptedException {
        requireNonNull(timeout, "timeout");
        lifecycle.checkStarted();
        return candidate.awaitLeadership(timeout);
    }

    /**
     * Who leads this election now, as the ensemble reports it (one or two reads), whether or not this
     * participant takes part.
     *
     * @return the leader, or empty if the election has no participant
     * @throws dev.zkrecipes.core.NotAuthorizedException if this client's identity may not read the election
     * @throws dev.zkrecipes.core.ConnectionLossException if the ensemble cannot be reached within the retry policy
     * @throws IllegalStateException if closed
     */
    public Optional<Participant> currentLeader() {
        lifecycle.checkNotClosed();
        return ElectionReader.leader(zk.curator(), electionPath);
    }

    /**
     * Every participant, in election order (the leader first), as the ensemble reports them now.
     *
     * @throws dev.zkrecipes.core.ConnectionLossException if the ensemble cannot be reached within the retry policy
     * @throws IllegalStateException if closed
     */
    public List<Participant> participants() {
        lifecycle.checkNotClosed();
        return ElectionReader.participants(zk.curator(), electionPath);
    }

    /**
     * Steps down: if this participant leads, its term ends before this returns, whatever the
     * connection ({@code revoked(term, RESIGNED)}); its node is deleted and it rejoins at the back of
     * the line. Does nothing when it does not lead. Returns once the new node is created, or after the
     * client's connection timeout (5 s by default) if ZooKeeper cannot be reached: the participant
     * then rejoins in the background when it reconnects, and the old node is deleted by Curator in
     * the background or by the session's end.
     *
     * @throws InterruptedException if interrupted while waiting for ZooKeeper
     * @throws IllegalStateException if not started, or closed
     */
    public void resign() throws InterruptedException {
        lifecycle.checkStarted();
        candidate.resign();
    }

    /** The id this participant is known by. */
    public String participantId() {
        return participantId;
    }

    /** The election's name. */
    public String name() {
        return name;
    }

    /**
     * Leaves the election for good: the term, if any, ends at once ({@code revoked(term, CLOSED)}),
     * then the node is deleted, so a successor is elected without waiting for a session timeout.
     * Waits for the delete at most the client's connection timeout (5 s by default), connected or
     * not; if ZooKeeper cannot be reached, Curator keeps deleting the node in the background, and the
     * session's end deletes it anyway. Idempotent.
     */
    @Override
    public void close() {
        if (!lifecycle.close()) {
            return;
        }
        // the term ends before the client stops knowing this elector: a client closing meanwhile
        // would otherwise close its session, and elect a successor, while this term still held
        try {
            candidate.close(ClientRecipes.isSessionEnding(zk));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            ClientRecipes.closed(zk, registration);
        }
    }

    @Override
    public String toString() {
        return "LeaderElector[" + name + ", " + participantId + ", leader=" + candidate.isLeader() + "]";
    }

    private final class Registration implements ClientRecipes.SessionScoped {
        @Override
        public void endBeforeSessionCloses() {
            candidate.endBeforeSessionCloses();
        }

        @Override
        public void close() {
            LeaderElector.this.close();
        }

        @Override
        public String toString() {
            return LeaderElector.this.toString();
        }
    }

    private static String defaultParticipantId() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            host = "localhost";
        }
        return host + ":" + ProcessHandle.current().pid() + ":" + UUID.randomUUID().toString().substring(0, 8);
    }

    /**
     * Options of a {@link LeaderElector}. Each option may be set once; a second call throws
     * {@link IllegalStateException}. Validation happens at each call and at {@link #build()}, before
     * anything reaches ZooKeeper.
     */
    public static final class Builder {
        private final ZkRecipes zk;
        private final String name;
        private String participantId;
        private byte[] data;
        private LeadershipListener listener;

        private Builder(ZkRecipes zk, String name) {
            this.zk = requireNonNull(zk, "zk");
            this.name = RecipePaths.validateName(name);
        }

        /**
         * How this participant is known to others (in {@link Participant#id()}). Default
         * {@code host:pid:random}.
         *
         * @throws IllegalArgumentException if empty or over 1024 UTF-8 bytes
         */
        public Builder participantId(String participantId) {
            requireNonNull(participantId, "participantId");
            once(this.participantId, "participantId");
            NodePayload.encode(participantId, new byte[0]);
            this.participantId = participantId;
            return this;
        }

        /**
         * What observers read about this participant while it leads (an address, say). Copied.
         * Checked against the size limit at {@link #build()}.
         */
        public Builder data(byte[] data) {
            requireNonNull(data, "data");
            once(this.data, "data");
            this.data = data.clone();
            return this;
        }

        /** Hears this participant's terms begin and end; see {@link LeadershipListener}. */
        public Builder listener(LeadershipListener listener) {
            requireNonNull(listener, "listener");
            once(this.listener, "listener");
            this.listener = listener;
            return this;
        }

        /**
         * Builds the participant, not yet started.
         *
         * @throws dev.zkrecipes.core.PayloadTooLargeException if id and data exceed the client's limit
         */
        public LeaderElector build() {
            return new LeaderElector(this);
        }
    }
}
