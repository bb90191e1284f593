package dev.zkrecipes.core.internal;

import dev.zkrecipes.core.ZkRecipes;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import org.slf4j.LoggerFactory;

/**
 * The recipes open on each client -- electors, observers, stores, consumer subscriptions, whatever
 * holds threads or watches -- so that closing the client ends them all: their terms revoked with a
 * reason, their handles closed, their threads gone. A recipe registers when it starts and leaves
 * when it closes.
 */
public final class ClientRecipes {

    private static final Map<ZkRecipes, Set<AutoCloseable>> OPEN = new WeakHashMap<>();
    private static final Set<ZkRecipes> SESSION_ENDING = Collections.newSetFromMap(new WeakHashMap<>());

    private ClientRecipes() {
    }

    /**
     * A recipe that holds rights on its client's session (a term) and needs nothing from ZooKeeper
     * to close once that session ends, since the session's end deletes its nodes. When its client
     * closes, its rights end first, at once and without a request; then the session closes, handing
     * every such right on in one request; then the recipe closes.
     */
    public interface SessionScoped extends AutoCloseable {

        /** Ends every right this recipe holds on the session now, without a request; none begins again. */
        void endBeforeSessionCloses();
    }

    /** {@code recipe} started on {@code zk}. */
    public static synchronized void opened(ZkRecipes zk, AutoCloseable recipe) {
        OPEN.computeIfAbsent(zk, k -> Collections.newSetFromMap(new IdentityHashMap<>())).add(recipe);
    }

    /** {@code recipe} closed on its own. */
    public static synchronized void closed(ZkRecipes zk, AutoCloseable recipe) {
        Set<AutoCloseable> open = OPEN.get(zk);
        if (open != null) {
            open.remove(recipe);
        }
    }

    /**
     * Ends now the rights of every session-scoped recipe open on {@code zk}, leaving them open: its
     * Curator client is closing under it (a wrapped client closed by its owner).
     */
    public static void endSessionScoped(ZkRecipes zk) {
        List<SessionScoped> scoped = new ArrayList<>();
        synchronized (ClientRecipes.class) {
            for (AutoCloseable r : OPEN.getOrDefault(zk, Set.of())) {
                if (r instanceof SessionScoped s) {
                    scoped.add(s);
                }
            }
        }
        endRights(scoped);
    }

    /** Ends the rights of each of {@code scoped} now ({@link SessionScoped#endBeforeSessionCloses}), one failing not stopping the rest. */
    public static void endRights(List<SessionScoped> scoped) {
        for (SessionScoped s : scoped) {
            try {
                s.endBeforeSessionCloses();
            } catch (RuntimeException e) {
                LoggerFactory.getLogger(ClientRecipes.class).warn("ending {} along with its client's session: {}", s, e.toString());
            }
        }
    }

    /** Every recipe still open on {@code zk}, forgotten here: the caller closes them. */
    public static synchronized List<AutoCloseable> takeAll(ZkRecipes zk) {
        Set<AutoCloseable> open = OPEN.remove(zk);
        return open == null ? List.of() : new ArrayList<>(open);
    }

    /**
     * {@code zk} is closing its own session: its ephemeral nodes all go with it in one request, so
     * a recipe closing now need not delete its own nodes one by one first.
     */
    public static synchronized void sessionEnding(ZkRecipes zk) {
        SESSION_ENDING.add(zk);
    }

    /** True while {@code zk} closes its own session (see {@link #sessionEnding}). */
    public static synchronized boolean isSessionEnding(ZkRecipes zk) {
        return SESSION_ENDING.contains(zk);
    }
}
