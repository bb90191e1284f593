package dev.zkrecipes.election.internal;

import dev.zkrecipes.core.NotAuthorizedException;
import dev.zkrecipes.core.internal.ZkErrors;
import dev.zkrecipes.core.internal.SequentialNodes;
import dev.zkrecipes.core.internal.SerialExecutor;
import dev.zkrecipes.core.internal.Watches;
import dev.zkrecipes.election.LeaderChangeListener;
import dev.zkrecipes.election.Participant;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The machinery of a {@code LeaderObserver}: one child watch, one cached leader, ordered callbacks. */
public final class ElectionWatch implements ConnectionStateListener {

    private static final Logger LOG = LoggerFactory.getLogger(ElectionWatch.class);

    private final CuratorFramework curator;
    private final String electionName;
    private final String electionPath;
    private final SerialExecutor worker;
    private final SerialExecutor callbacks;
    private final List<LeaderChangeListener> listeners = new CopyOnWriteArrayList<>();
    private final Watcher wakeup;

    // guarded by this
    private Optional<Participant> leader = Optional.empty();
    private String leaderNode;
    private boolean known;
    /** Set while the ensemble refuses this client reads of the election (NOAUTH). */
    private NotAuthorizedException refused;
    private volatile boolean closed;

    public ElectionWatch(CuratorFramework curator, String electionName, String electionPath) {
        this.curator = curator;
        this.electionName = electionName;
        this.electionPath = electionPath;
        this.worker = SerialExecutor.forWork("observer-" + electionName, curator);
        this.callbacks = SerialExecutor.forCallbacks("observer-" + electionName + "-listener", curator);
        this.wakeup = event -> {
            if (event.getType() != Watcher.Event.EventType.None) {
                worker.execute(this::refresh);
            }
        };
    }

    public void start() {
        curator.getConnectionStateListenable().addListener(this);
        worker.execute(this::refresh);
    }

    /** @throws NotAuthorizedException if the last read of the election was refused for lack of rights */
    public synchronized Optional<Participant> leader() {
        checkRefused();
        return leader;
    }

    private void checkRefused() {
        if (refused != null) {
            throw new NotAuthorizedException(refused.getMessage(), refused);
        }
    }

    public synchronized Optional<Optional<Participant>> await(Predicate<Optional<Participant>> condition,
            Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!(known && condition.test(leader))) {
            checkRefused();
            long left = deadline - System.nanoTime();
            if (left <= 0 || closed) {
                return Optional.empty();
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return Optional.of(leader);
    }

    public synchronized void addListener(LeaderChangeListener listener) {
        checkRefused();
        listeners.add(listener);
        if (known) {
            Optional<Participant> now = leader;
            callbacks.execute(() -> listener.leaderChanged(now));
        }
    }

    @Override
    public void stateChanged(CuratorFramework client, ConnectionState newState) {
        if (newState == ConnectionState.RECONNECTED || newState == ConnectionState.CONNECTED) {
            worker.execute(this::refresh);
        }
    }

    public void close() {
        closed = true;
        curator.getConnectionStateListenable().removeListener(this);
        // take our watcher back from the client; the server's watch on the path fires at most once more
        Watches.removeLocally(curator, wakeup, electionPath);
        synchronized (this) {
            notifyAll();
        }
        worker.close();
        callbacks.close();
    }

    private void refresh() {
        if (closed) {
            return;
        }
        try {
            for (int attempt = 0; attempt < 10; attempt++) {
                List<String> line;
                try {
                    line = SequentialNodes.sortedProtected(curator.getChildren().usingWatcher(wakeup).forPath(electionPath),
                            Candidate.NODE_NAME);
                } catch (KeeperException.NoNodeException e) {
                    if (curator.checkExists().usingWatcher(wakeup).forPath(electionPath) != null) {
                        continue;
                    }
                    publish(null, Optional.empty());
                    return;
                }
                if (line.isEmpty()) {
                    publish(null, Optional.empty());
                    return;
                }
                String first = line.get(0);
                synchronized (this) {
                    if (known && first.equals(leaderNode)) {
                        return;
                    }
                }
                try {
                    Stat stat = new Stat();
                    String path = ZKPaths.makePath(electionPath, first);
                    byte[] bytes = curator.getData().storingStatIn(stat).forPath(path);
                    publish(first, Optional.of(ElectionReader.toParticipant(path, bytes, stat)));
                    return;
                } catch (KeeperException.NoNodeException gone) {
                    // the first node left between the two reads; the child watch fires too
                }
            }
        } catch (Exception e) {
            if (!closed && (e instanceof KeeperException.NoAuthException || e instanceof NotAuthorizedException)) {
                // not mended by time alone: the observer's calls throw it; look again now and then
                // in case the ACL is changed
                boolean first;
                synchronized (this) {
                    first = refused == null;
                    refused = (NotAuthorizedException) ZkErrors.translate(e, "observing election '" + electionName + "'");
                    notifyAll();
                }
                if (first) {
                    LOG.error("observer of election '{}': {}", electionName, refused.getMessage());
                }
                CompletableFuture.delayedExecutor(5, TimeUnit.SECONDS).execute(() -> worker.execute(this::refresh));
            } else if (!closed) {
                LOG.debug("observer of election '{}': {}; reading again later", electionName, e.toString());
                CompletableFuture.delayedExecutor(500, TimeUnit.MILLISECONDS).execute(() -> worker.execute(this::refresh));
            }
        }
    }

    private synchronized void publish(String node, Optional<Participant> now) {
        boolean changed = !known || !now.equals(leader);
        known = true;
        refused = null;
        leaderNode = node;
        leader = now;
        notifyAll();
        if (changed) {
            for (LeaderChangeListener l : listeners) {
                callbacks.execute(() -> l.leaderChanged(now));
            }
        }
    }
}
