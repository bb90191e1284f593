package dev.zkrecipes.election.internal;

import dev.zkrecipes.core.NotAuthorizedException;
import dev.zkrecipes.core.internal.Background;
import dev.zkrecipes.core.internal.Deadline;
import dev.zkrecipes.core.internal.HeldNode;
import dev.zkrecipes.core.internal.RecipeMetrics;
import dev.zkrecipes.core.internal.SequentialNodes;
import dev.zkrecipes.core.internal.SerialExecutor;
import dev.zkrecipes.core.internal.Sessions;
import dev.zkrecipes.core.internal.Watches;
import dev.zkrecipes.core.internal.ZkErrors;
import dev.zkrecipes.election.Leadership;
import dev.zkrecipes.election.LeadershipListener;
import dev.zkrecipes.election.RevocationReason;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One participant's side of an election, as a state machine.
 *
 * <p>ZooKeeper work (create, read children, watch the predecessor) runs on a private worker
 * thread, one task at a time, so no ZooKeeper call ever blocks Curator's event or connection
 * threads and the node bookkeeping needs no locks. The term's validity, in contrast, changes on
 * the connection-state thread the moment Curator reports SUSPENDED or LOST, without waiting for
 * the worker. Every term transition happens under this object's monitor together with the post of
 * its callback, so callbacks reach the listener in the order of the transitions.
 *
 * <p>Watches: the node just ahead (its leaving may make us leader); our own node while we lead or
 * are next (deleted means the term, or the place, is gone); the head of the line while we are
 * within {@link #HEAD_WATCHERS} places of it (so that the next in line always knows it is next, and
 * takes over on the leader's delete without reading the line first).
 *
 * <p>Invariant: a term is granted or resumed only on a node whose ephemeral owner (as the server
 * reported it) is the client's current session, checked under the monitor. A node of a session the
 * client has moved on from is deleted, never led on.
 *
 * <p>Why not Curator's LeaderLatch: it gives up its node and rejoins at the back on every
 * reconnect, which flaps leadership to another candidate after a blip that the session survived.
 * Here a term whose session survived resumes with the same node and token.
 */
public final class Candidate implements ConnectionStateListener {

    private static final Logger LOG = LoggerFactory.getLogger(Candidate.class);
    private static final long MAX_RETRY_DELAY_MILLIS = 5_000;
    /** Failures in a row after which a participant gives up its node rather than block the line. */
    private static final int GIVE_UP_AFTER_FAILURES = 5;
    /**
     * Participants up to this place in line watch the head too, and so read the line again when it
     * leaves: each change of leader costs up to this many reads, and the next in line then takes
     * over without one. Further back, a participant reads the line when the one ahead leaves.
     */
    private static final int HEAD_WATCHERS = 8;
    /** The name Curator's protected create puts before the sequence. */
    static final String NODE_NAME = "n_";

    private final CuratorFramework curator;
    private final String electionName;
    private final String electionPath;
    private final String participantId;
    private final byte[] payload;
    private final LeadershipListener listener;
    private final SerialExecutor worker;
    private final SerialExecutor callbacks;

    /**
     * The node this participant holds in the election: replaced as a whole, under the monitor. Its
     * two watchers are made once, so that re-arming them after a reconnect adds no watcher.
     */
    private final class Node {
        final String path;
        final String name;
        final long czxid;
        final long sessionId;
        final Watcher predecessorWatch = new Wakeup(this);
        final Watcher ownWatch = new OwnNodeWatch(this);
        final Watcher headWatch = new HeadWatch(this);
        /** The node ahead that predecessorWatch was last set on, to take the watcher back. */
        volatile String watchedPredecessor;
        /**
         * That node was the head of the line when its watch was set: nobody else is ahead of us, and
         * nodes only join behind, so its deletion alone makes us the head, without reading the line.
         */
        volatile boolean predecessorIsHead;
        /** The head of the line, watched too while we are close behind it; null when not. */
        volatile String watchedHead;
        /**
         * Our own node's watch is registered on the server (its read answered) and has not fired
         * since, nor has the connection changed: until then, a delete of our node may be unheard,
         * and the hand-off without a read must not be taken.
         */
        volatile boolean ownWatchArmed;

        Node(String path, long czxid, long sessionId) {
            this.path = path;
            this.name = ZKPaths.getNodeFromPath(path);
            this.czxid = czxid;
            this.sessionId = sessionId;
        }
    }

    // Shared state, guarded by this; node is also read without the lock as a snapshot.
    private volatile Node node;
    private Term term;
    private boolean suspended;
    /** No term begins and no node is made any more (left, or leaving with the session). */
    private boolean closed;
    /** close() ran: the threads are closed too. */
    private boolean finished;
    /** Set while the ensemble refuses this participant its place for lack of rights (NOAUTH). */
    private NotAuthorizedException refused;

    // Worker-thread state.
    private int consecutiveFailures;
    private final RecipeMetrics metrics;

    public Candidate(CuratorFramework curator, String electionName, String electionPath, String participantId,
            byte[] payload, LeadershipListener listener, RecipeMetrics metrics) {
        this.curator = curator;
        this.metrics = metrics;
        this.electionName = electionName;
        this.electionPath = electionPath;
        this.participantId = participantId;
        this.payload = payload;
        this.listener = listener;
        this.worker = SerialExecutor.forWork("election-" + electionName, curator);
        this.callbacks = SerialExecutor.forCallbacks("election-" + electionName + "-listener", curator);
    }

    /** Joins the election: from now on the participant holds a node whenever it has a session. */
    public void start() {
        synchronized (this) {
            if (closed) {
                return;
            }
            // listen first, then read the state: a change in between is heard, not missed
            curator.getConnectionStateListenable().addListener(this);
            suspended = !curator.getZookeeperClient().isConnected();
        }
        submit(this::reconcile);
    }

    public boolean isLeader() {
        Term t = currentTerm();
        return t != null && t.isValid();
    }

    /**
     * Throws, with the caller's stack, the refusal of the last attempt to take a place, if the
     * ensemble refused it for lack of rights and no attempt has succeeded since.
     *
     * @throws NotAuthorizedException if so
     */
    public synchronized void checkRefused() {
        if (refused != null) {
            throw new NotAuthorizedException(refused.getMessage(), refused);
        }
    }

    public synchronized Term currentTerm() {
        return term;
    }

    /**
     * Waits until this participant holds a valid term, the timeout passes, or it is closed.
     *
     * @throws NotAuthorizedException as soon as the ensemble refuses this participant its place
     */
    public synchronized Optional<Leadership> awaitLeadership(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!closed && (term == null || !term.isValid())) {
            checkRefused();
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return Optional.empty();
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return closed ? Optional.empty() : Optional.of(term);
    }

    /**
     * Ends the current term, if any, at once (before returning, whatever the worker is doing), then
     * deletes the node and rejoins at the back. Waits for that at most the client's connection
     * timeout; past it the participant rejoins in the background once ZooKeeper answers.
     */
    public void resign() throws InterruptedException {
        Deadline bound = Deadline.forClosing(curator);
        Node resigned;
        synchronized (this) {
            if (term == null || closed) {
                return;
            }
            // forget the node before ending the term, so that no wake-up can start a term on it
            resigned = node;
            node = null;
            endTerm(RevocationReason.RESIGNED);
        }
        deleteInBackground(resigned);
        runAndWait(this::join, bound);
    }

    /**
     * Leaves the election: ends the term, deletes the node, stops the threads. Waits for the delete
     * at most the client's connection timeout; Curator keeps deleting in the background after that.
     */
    public void close() throws InterruptedException {
        close(false);
    }

    /**
     * Like {@link #close()}; with {@code sessionEnds} the node is left to the session's end (the
     * client closes its session right after, which deletes every ephemeral node at once).
     */
    public void close(boolean sessionEnds) throws InterruptedException {
        Deadline bound = Deadline.forClosing(curator);
        CompletableFuture<?> deleted = null;
        Node left;
        synchronized (this) {
            if (finished) {
                return;
            }
            finished = true;
            closed = true;
            left = node;
            node = null;
            // The term ends before the delete is sent (never a moment with two valid leaders); its
            // callback is posted after the send, so that our listener's wake-up does not hold up the
            // delete the successor waits for. Sent from here: the hand-off does not wait for the worker.
            Term ended = term;
            term = null;
            boolean endedNow = ended != null && ended.node().end();
            if (!sessionEnds) {
                // the delete alone, now: the successor waits for it. The watchers are taken back
                // once it is done, as each is a request of its own on this session
                deleted = sendDelete(left);
            }
            if (endedNow) {
                post(ended, RevocationReason.CLOSED);
            }
            notifyAll();
            curator.getConnectionStateListenable().removeListener(this);
        }
        try {
            if (sessionEnds) {
                return;
            }
            try {
                bound.await(deleted);
            } catch (TimeoutException | ExecutionException e) {
                LOG.warn("election '{}': participant '{}' left, but its node is not deleted yet ({}); Curator keeps"
                        + " deleting it in the background, and the session's end deletes it anyway", electionName,
                        participantId, e.toString());
            } finally {
                if (left != null) {
                    releaseWatchers(left);
                }
            }
            // then let the worker finish what it was doing (a create in flight deletes its own node)
            runAndWait(() -> { }, bound);
        } finally {
            worker.close();
            callbacks.close();
        }
    }

    /**
     * The client closes its session next, and that deletes our node: the term, if any, ends now
     * ({@code revoked(term, CLOSED)}) and no other begins; nothing is sent, so a thousand
     * participants end theirs in moments and the session's end hands every leadership on at once.
     * {@link #close(boolean) close(true)} finishes (the threads).
     */
    public synchronized void endBeforeSessionCloses() {
        if (closed) {
            return;
        }
        closed = true;
        Term ended = term;
        term = null;
        if (ended != null && ended.node().end()) {
            post(ended, RevocationReason.CLOSED);
        }
        notifyAll();
    }

    // ---- connection state: validity changes here at once, node work goes to the worker ----

    @Override
    public void stateChanged(CuratorFramework client, ConnectionState newState) {
        switch (newState) {
            case SUSPENDED, READ_ONLY -> onSuspended();
            case LOST -> onLost();
            case CONNECTED, RECONNECTED -> {
                synchronized (this) {
                    suspended = false;
                }
                submit(this::reconcile);
            }
            default -> { }
        }
    }

    private synchronized void onSuspended() {
        suspended = true;
        if (term != null && term.node().suspend()) {
            post(term, RevocationReason.CONNECTION_SUSPENDED);
        }
    }

    private synchronized void onLost() {
        suspended = true;
        endTerm(RevocationReason.SESSION_EXPIRED);
    }

    // ---- worker tasks ----

    /** Brings the node in line with the session: keep it, replace it, or create the first one. */
    private void reconcile() throws Exception {
        if (isClosed()) {
            return;
        }
        Node current = node;
        if (current != null && Sessions.hasMovedOn(curator, current.sessionId)) {
            // The session that owned our node is gone; so is the term. If only the client gave the
            // session up (Curator's own expiry after the session timeout), the server may still hold
            // the node at the head of the line: delete it rather than wait for the server's expiry.
            forget(current, RevocationReason.SESSION_EXPIRED);
            deleteInBackground(current);
        }
        if (node == null) {
            join();
        } else {
            evaluate();
        }
    }

    private void join() throws Exception {
        if (isClosed() || node != null) {
            return;
        }
        Stat stat = new Stat();
        String path = curator.create().storingStatIn(stat).creatingParentContainersIfNeeded().withProtection()
                .withMode(CreateMode.EPHEMERAL_SEQUENTIAL)
                .forPath(ZKPaths.makePath(electionPath, NODE_NAME), payload);
        if (stat.getCzxid() == 0 || stat.getEphemeralOwner() == 0) {
            // Curator's protection found our node after a lost reply, without filling the stat
            Stat found = curator.checkExists().forPath(path);
            if (found == null) {
                throw KeeperException.create(KeeperException.Code.NONODE, path);
            }
            stat = found;
        }
        Node created = new Node(path, stat.getCzxid(), stat.getEphemeralOwner());
        synchronized (this) {
            if (!closed && Sessions.isCurrent(curator, created.sessionId)) {
                node = created;
            }
        }
        if (node != created) {
            deleteInBackground(created);
            if (!isClosed()) {
                throw new IllegalStateException("the node created for election '" + electionName
                        + "' belongs to a session this client no longer has");
            }
            return;
        }
        evaluate();
    }

    /** Reads the line and either takes the lead or watches the participant just ahead. */
    private void evaluate() throws Exception {
        while (!isClosed()) {
            Node current = node;
            if (current == null) {
                return;
            }
            List<String> line = SequentialNodes.sortedProtected(childrenOrEmpty(), NODE_NAME);
            int index = line.indexOf(current.name);
            if (index < 0) {
                // our node is gone while the session lives: deleted (by an operator, or the parent reaped)
                forget(current, Sessions.isCurrent(curator, current.sessionId)
                        ? RevocationReason.NODE_DELETED : RevocationReason.SESSION_EXPIRED);
                join();
                return;
            }
            if (index == 0) {
                lead(current);
                return;
            }
            String predecessor = ZKPaths.makePath(electionPath, line.get(index - 1));
            try {
                boolean next = index == 1;
                if (next) {
                    // Next in line: watch our own node too, sent first. ZooKeeper delivers a delete of
                    // it before the leader's, so the hand-off without a re-read (Wakeup) never
                    // stands on a node that is gone.
                    watchOwnNode(current);
                } else if (index <= HEAD_WATCHERS) {
                    // Close behind: hear the head leave too, so that we read the line again then and
                    // know when we are next -- off the hand-off's path, which then needs no read.
                    watchHead(current, ZKPaths.makePath(electionPath, line.get(0)));
                }
                // getData rather than checkExists: an exists-watch on a node that is already gone
                // would stay registered on the server for the life of the session.
                current.watchedPredecessor = predecessor;
                current.predecessorIsHead = next;
                curator.getData().usingWatcher(current.predecessorWatch).forPath(predecessor);
                if (node != current) {
                    // we left while this read was on its way (close() took back what it knew of)
                    releaseWatchers(current);
                }
                return;
            } catch (KeeperException.NoNodeException gone) {
                // the predecessor left between the two reads: look again
                if (node != current) {
                    releaseWatchers(current);
                    return;
                }
            }
        }
    }

    /** Watches the head of the line (in the background); a head already gone means: read again. */
    private void watchHead(Node current, String head) {
        current.watchedHead = head;
        try {
            curator.getData().usingWatcher(current.headWatch).inBackground((c, event) -> {
                if (node != current) {
                    // we left while the watch was being set: take it back
                    Watches.removeLocally(curator, current.headWatch, head);
                } else if (event.getResultCode() == KeeperException.Code.NONODE.intValue()) {
                    submit(this::evaluate);
                }
            }).forPath(head);
        } catch (Exception e) {
            LOG.debug("election '{}': could not watch the head of the line: {}", electionName, e.toString());
        }
    }

    private List<String> childrenOrEmpty() throws Exception {
        try {
            return curator.getChildren().forPath(electionPath);
        } catch (KeeperException.NoNodeException e) {
            return List.of();
        }
    }

    /**
     * Takes the lead with {@code current}, or resumes its suspended term. Runs on the worker, or on
     * ZooKeeper's event thread on the hand-off fast path; it does no blocking work.
     */
    private void lead(Node current) {
        synchronized (this) {
            if (closed || suspended || node != current) {
                // a reconnect that ends the suspension runs reconcile again
                return;
            }
            if (!Sessions.isCurrent(curator, current.sessionId)) {
                // our node belongs to a session the client no longer has (or none yet): never
                // grant a term on it; reconcile replaces it once the new session is up
                submit(this::reconcile);
                return;
            }
            if (term != null && term.node().path().equals(current.path)) {
                if (term.node().resume()) {
                    post(term, null);
                    notifyAll();
                }
            } else {
                endTerm(RevocationReason.SESSION_EXPIRED);
                HeldNode held = new HeldNode(curator, current.path, current.czxid, current.sessionId,
                        "leadership of election '" + electionName + "'").onLoss(this::termLost);
                term = new Term(held, participantId);
                post(term, null);
                notifyAll();
            }
        }
        watchOwnNode(current);
    }

    /**
     * The leader watches its own node: deleted (by an operator, say) means the term is over. The
     * same watcher object every time, re-armed after every event, so a data change first does not
     * leave the node unwatched.
     */
    private void watchOwnNode(Node current) {
        try {
            curator.getData().usingWatcher(current.ownWatch).inBackground((c, event) -> {
                if (event.getResultCode() == KeeperException.Code.NONODE.intValue()) {
                    ownNodeGone(current);
                } else if (node != current) {
                    // we left (or replaced the node) while the watch was being set: take it back
                    Watches.removeLocally(curator, current.ownWatch, current.path);
                } else if (event.getResultCode() == KeeperException.Code.OK.intValue()) {
                    // ZooKeeper answers in order: from here on, a delete of our node is heard
                    // before anything that happens after it, the leader's delete included
                    current.ownWatchArmed = true;
                }
            }).forPath(current.path);
        } catch (Exception e) {
            LOG.debug("election '{}': could not watch our own node: {}", electionName, e.toString());
        }
    }

    private void ownNodeGone(Node gone) {
        forget(gone, Sessions.isCurrent(curator, gone.sessionId)
                ? RevocationReason.NODE_DELETED : RevocationReason.SESSION_EXPIRED);
        submit(this::reconcile);
    }

    /** A guarded commit found the term's node gone on the server: announce it and rejoin. */
    private void termLost(HeldNode held, HeldNode.Loss why) {
        Node gone = null;
        synchronized (this) {
            if (term != null && term.node() == held) {
                gone = node;
                if (gone != null && gone.path.equals(held.path())) {
                    node = null;
                }
                endTerm(why == HeldNode.Loss.NODE_DELETED ? RevocationReason.NODE_DELETED : RevocationReason.SESSION_EXPIRED);
            }
        }
        if (gone != null) {
            deleteInBackground(gone);
        }
        submit(this::reconcile);
    }

    /** Drops {@code gone} as our node and ends its term, unless the node was replaced meanwhile. */
    private synchronized void forget(Node gone, RevocationReason reason) {
        if (node == gone) {
            node = null;
            endTerm(reason);
            releaseWatchers(gone);
        }
    }

    /**
     * Deletes a node of ours in the background (Curator retries until it is gone) and takes back the
     * watchers set for it, so that a participant that left keeps no watcher (and no reference to
     * itself) on its client.
     */
    private CompletableFuture<?> deleteInBackground(Node gone) {
        if (gone == null) {
            return CompletableFuture.completedFuture(null);
        }
        // the delete first: the successor waits for it, not for the watchers taken back
        CompletableFuture<?> deleted = sendDelete(gone);
        releaseWatchers(gone);
        return deleted;
    }

    /** Deletes a node of ours in the background; Curator retries until it is gone. */
    private CompletableFuture<?> sendDelete(Node gone) {
        if (gone == null) {
            return CompletableFuture.completedFuture(null);
        }
        return Background.send(cb -> curator.delete().quietly().guaranteed().inBackground(cb).forPath(gone.path));
    }

    /** Takes back the watchers set for {@code gone} (sent in the background, never blocks). */
    private void releaseWatchers(Node gone) {
        String predecessor = gone.watchedPredecessor;
        if (predecessor != null) {
            Watches.removeLocally(curator, gone.predecessorWatch, predecessor);
        }
        Watches.removeLocally(curator, gone.ownWatch, gone.path);
        String head = gone.watchedHead;
        if (head != null) {
            Watches.removeLocally(curator, gone.headWatch, head);
        }
    }

    // ---- term transitions and callbacks ----

    /** Ends the current term for {@code reason}; true if there was one to end. */
    private synchronized boolean endTerm(RevocationReason reason) {
        Term ended = term;
        if (ended == null) {
            return false;
        }
        term = null;
        notifyAll();
        if (ended.node().end()) {
            post(ended, reason);
        }
        return true;
    }

    /** Posts {@code elected(t)} when reason is null, else {@code revoked(t, reason)}. Caller holds the monitor. */
    private void post(Term t, RevocationReason reason) {
        metrics.leadership(electionName, participantId, reason == null, reason == null ? null : reason.name());
        if (listener == null) {
            return;
        }
        if (reason == null) {
            callbacks.execute(() -> listener.elected(t));
        } else {
            callbacks.execute(() -> listener.revoked(t, reason));
        }
    }

    private synchronized boolean isClosed() {
        return closed;
    }

    // ---- worker plumbing ----

    private interface Task {
        void run() throws Exception;
    }

    private void submit(Task task) {
        worker.execute(() -> runGuarded(task));
    }

    private void runGuarded(Task task) {
        try {
            task.run();
            consecutiveFailures = 0;
            synchronized (this) {
                refused = null;
            }
        } catch (Exception e) {
            if (isClosed()) {
                return;
            }
            if (isRefusal(e)) {
                // Not a failure that time mends by itself: tell the caller (awaitLeadership, isLeader)
                // at once, say it once in the log, and look again now and then in case the ACL is fixed.
                boolean first;
                synchronized (this) {
                    first = refused == null;
                    refused = e instanceof NotAuthorizedException n ? n
                            : (NotAuthorizedException) ZkErrors.translate(e, "joining election '" + electionName + "'");
                    notifyAll();
                }
                if (first) {
                    LOG.error("election '{}': participant '{}' may not take part: {}", electionName, participantId,
                            refused.getMessage());
                }
                Node stuck = node;
                if (stuck != null) {
                    // a place it may not use (it cannot read the line, say) must not block the others
                    forget(stuck, RevocationReason.NODE_DELETED);
                    deleteInBackground(stuck);
                }
                consecutiveFailures = 0;
                CompletableFuture.delayedExecutor(MAX_RETRY_DELAY_MILLIS, TimeUnit.MILLISECONDS)
                        .execute(() -> submit(this::reconcile));
                return;
            }
            // Usually the connection: a reconnect runs reconcile again anyway. Retry later too, in
            // case the failure was something else that time mends (ACL fixed, parent recreated).
            consecutiveFailures++;
            long delay = Math.min(MAX_RETRY_DELAY_MILLIS, 100L << Math.min(consecutiveFailures, 6));
            LOG.debug("election '{}': {}; retrying in {} ms", electionName, e.toString(), delay);
            Node stuck = node;
            if (consecutiveFailures >= GIVE_UP_AFTER_FAILURES && stuck != null) {
                // a node that keeps failing must not hold the head of the line for the whole session
                LOG.error("election '{}': participant '{}' failed {} times in a row with its node {} ({}); it gives the"
                        + " node up so that others can lead, and rejoins", electionName, participantId,
                        consecutiveFailures, stuck.path, e.toString(), e);
                forget(stuck, RevocationReason.NODE_DELETED);
                deleteInBackground(stuck);
                consecutiveFailures = 0;
            } else if (consecutiveFailures > 3) {
                LOG.warn("election '{}': participant '{}' could not take its place ({}); retrying in {} ms",
                        electionName, participantId, e.toString(), delay);
            }
            CompletableFuture.delayedExecutor(delay, TimeUnit.MILLISECONDS).execute(() -> submit(this::reconcile));
        }
    }

    /** True for ZooKeeper's NOAUTH, raw or translated. */
    private static boolean isRefusal(Throwable e) {
        return e instanceof KeeperException.NoAuthException || e instanceof NotAuthorizedException;
    }

    /** Runs {@code task} on the worker after what is queued, waiting for it until {@code bound}. */
    private void runAndWait(Task task, Deadline bound) throws InterruptedException {
        CompletableFuture<Void> done = new CompletableFuture<>();
        worker.execute(() -> {
            try {
                task.run();
                done.complete(null);
            } catch (Throwable t) {
                done.completeExceptionally(t);
                if (!isClosed()) {
                    submit(this::reconcile);
                }
            }
        });
        try {
            bound.await(done);
        } catch (ExecutionException e) {
            LOG.warn("election '{}': participant '{}' could not update its node now ({}); it rejoins when ZooKeeper"
                    + " answers, and the session's end deletes any node it gave up", electionName, participantId,
                    e.getCause().toString());
        } catch (TimeoutException e) {
            LOG.warn("election '{}': participant '{}' stopped waiting for ZooKeeper after {}; the rest goes on in the"
                    + " background", electionName, participantId, "the client's connection timeout");
        }
    }

    /**
     * Fires when the node ahead of ours changes. The hand-off fast path: the leader's node deleted
     * while ours was next makes us the head (nobody was ahead of it, newcomers join behind), so we
     * lead at once, on ZooKeeper's event thread, without a request. Otherwise read the line right
     * here, without waiting for the worker, and take the lead if we are first; anything else goes
     * to the worker. A stale wake-up only costs one read.
     */
    private final class Wakeup implements Watcher {
        private final Node watching;

        Wakeup(Node watching) {
            this.watching = watching;
        }

        @Override
        public void process(WatchedEvent event) {
            if (event.getType() == Event.EventType.None || node != watching) {
                return;
            }
            if (event.getType() == Event.EventType.NodeDeleted && watching.predecessorIsHead && watching.ownWatchArmed
                    && event.getPath() != null && event.getPath().equals(watching.watchedPredecessor)) {
                // our own node's watch is armed and was set before this one: had our node been
                // deleted, we would have heard so first and node would no longer be watching
                lead(watching);
                return;
            }
            try {
                curator.getChildren().inBackground((client, result) -> {
                    if (node != watching) {
                        return;
                    }
                    if (result.getResultCode() == KeeperException.Code.OK.intValue()) {
                        List<String> line = SequentialNodes.sortedProtected(result.getChildren(), NODE_NAME);
                        if (!line.isEmpty() && line.get(0).equals(watching.name)) {
                            lead(watching);
                            return;
                        }
                    }
                    submit(Candidate.this::evaluate);
                }).forPath(electionPath);
            } catch (Exception e) {
                submit(Candidate.this::evaluate);
            }
        }
    }

    /** Fires when the head of the line changes while we are close behind it: read the line again. */
    private final class HeadWatch implements Watcher {
        private final Node watching;

        HeadWatch(Node watching) {
            this.watching = watching;
        }

        @Override
        public void process(WatchedEvent event) {
            if (event.getType() != Event.EventType.None && node == watching) {
                submit(Candidate.this::evaluate);
            }
        }
    }

    /** Fires when our own node changes: deleted ends the term; anything else re-arms the watch. */
    private final class OwnNodeWatch implements Watcher {
        private final Node watching;

        OwnNodeWatch(Node watching) {
            this.watching = watching;
        }

        @Override
        public void process(WatchedEvent event) {
            // fired (a one-time watch), or the connection changed (events replayed after a
            // reconnect come in no particular order): not armed until set again and answered
            watching.ownWatchArmed = false;
            if (event.getType() == Event.EventType.None || node != watching) {
                return;
            }
            if (event.getType() == Event.EventType.NodeDeleted) {
                ownNodeGone(watching);
            } else {
                watchOwnNode(watching);
            }
        }
    }
}
