package dev.zkrecipes.core.internal;

import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.curator.CuratorZookeeperClient;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorEventType;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;

/**
 * Remembers which clients cannot be served for want of a SASL login: an ensemble that requires
 * SASL refused them, or their own login failed ({@link SaslWatch}). Such an ensemble answers a
 * request from a client without a login with {@code SESSIONCLOSEDREQUIRESASLAUTH} and closes the
 * connection at once, so the answer is often lost with it: the request then looks like a lost
 * connection, retried until its bound passes. Once one refusal was heard, a call of that client
 * whose bound passed is reported as the refusal it most likely is, not as an unreachable ensemble.
 * The same holds for a client whose login failed: ZooKeeper tells that on the connection only, and
 * its requests just see the connection dropped. A successful answer forgets a refusal (the ensemble
 * no longer requires SASL), as does any other answer the ensemble served; a login that succeeds
 * forgets a failed one.
 */
public final class SaslRefusals {

    private static final int REFUSED = KeeperException.Code.SESSIONCLOSEDREQUIRESASLAUTH.intValue();
    /**
     * How often a wait for an answer ({@link #awaitServed}, {@link Background#awaitServed}) looks
     * whether the client was refused meanwhile.
     */
    static final long REFUSAL_CHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /** Keyed by the ZooKeeper client that namespaced views of one Curator share; weak, so a dropped client goes. */
    private static final Map<CuratorZookeeperClient, Boolean> LOGIN_FAILED =
            Collections.synchronizedMap(new WeakHashMap<>());
    private static final Map<CuratorZookeeperClient, Boolean> REFUSED_CLIENTS =
            Collections.synchronizedMap(new WeakHashMap<>());
    /** The clients asked on every connection, with whether the ensemble served them since they last connected. */
    private static final Map<CuratorZookeeperClient, Served> ASKED = Collections.synchronizedMap(new WeakHashMap<>());
    /** Whether any client was ever refused: keeps the common path to one volatile read. */
    private static volatile boolean anyRefused;

    private SaslRefusals() {
    }

    /** Notes the result code of an answer {@code client} got. */
    public static void heard(CuratorFramework client, int resultCode) {
        if (resultCode == REFUSED) {
            REFUSED_CLIENTS.put(client.getZookeeperClient(), Boolean.TRUE);
            anyRefused = true;
        } else if (anyRefused && servedAnswer(resultCode)) {
            REFUSED_CLIENTS.remove(client.getZookeeperClient());
        }
    }

    /** Notes {@code failure}, if it is an answer of the ensemble, as heard by {@code client}. */
    public static void heard(CuratorFramework client, Throwable failure) {
        if (failure instanceof KeeperException k) {
            heard(client, k.code().intValue());
        }
    }

    /**
     * Asks the ensemble once, in the background, on every connection {@code client} makes, so that
     * a refusal is heard before the first recipe call runs out of time (and a client served again,
     * the ensemble no longer requiring SASL, is forgiven). For clients without a SASL login: those
     * with one learn it from their login ({@link SaslWatch}).
     */
    public static void askOnEveryConnection(CuratorFramework client) {
        Served served = new Served();
        ASKED.put(client.getZookeeperClient(), served);
        client.getCuratorListenable().addListener((c, event) -> {
            if (event.getType() != CuratorEventType.WATCHED || event.getWatchedEvent() == null
                    || event.getWatchedEvent().getState() != Watcher.Event.KeeperState.SyncConnected
                    || event.getWatchedEvent().getType() != Watcher.Event.EventType.None) {
                return;
            }
            served.set(false);
            try {
                // once per connection, on ZooKeeper's handle: a refusal lost with its connection is
                // asked again on the next one (moments later), not after Curator's retry sleeps;
                // the root, outside any namespace (Curator would create a namespace's node)
                c.getZookeeperClient().getZooKeeper().exists("/", false, (rc, path, ctx, stat) -> {
                    heard(c, rc);
                    if (servedAnswer(rc)) {
                        served.set(true);
                    }
                }, null);
            } catch (Exception e) {
                // a closing client: nothing to learn
            }
        });
    }

    /**
     * For a client {@linkplain #askOnEveryConnection asked on every connection}: waits until the
     * ensemble answered its question on the current connection (true), or refused the client for
     * want of a SASL login, or {@code nanos} passed (false; {@link #refused} tells which). An
     * ensemble that requires SASL grants a session first and refuses every request after, so being
     * connected does not mean being served. A client not asked (wrapped from the caller's own
     * Curator) is taken as served.
     */
    public static boolean awaitServed(CuratorFramework client, long nanos) throws InterruptedException {
        Served served = ASKED.get(client.getZookeeperClient());
        if (served == null) {
            return true;
        }
        long deadline = System.nanoTime() + Math.max(0, nanos);
        while (true) {
            long left = deadline - System.nanoTime();
            if (served.await(Math.min(Math.max(0, left), REFUSAL_CHECK_NANOS))) {
                return true;
            }
            if (refused(client) || deadline - System.nanoTime() <= 0) {
                return false;
            }
        }
    }

    /** Whether the ensemble answered a question on the client's current connection. */
    private static final class Served {
        private boolean served;

        synchronized void set(boolean value) {
            served = value;
            notifyAll();
        }

        synchronized boolean await(long nanos) throws InterruptedException {
            long deadline = System.nanoTime() + nanos;
            while (!served) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
            return true;
        }
    }

    /** An answer the ensemble gave, as opposed to a request it dropped, refused for SASL or never got. */
    private static boolean servedAnswer(int resultCode) {
        KeeperException.Code code = KeeperException.Code.get(resultCode);
        return code != null && switch (code) {
            case CONNECTIONLOSS, OPERATIONTIMEOUT, REQUESTTIMEOUT, SESSIONEXPIRED, SESSIONMOVED,
                    SESSIONCLOSEDREQUIRESASLAUTH, AUTHFAILED -> false;
            default -> true;
        };
    }

    /** Notes whether {@code client}'s SASL login of its current connection failed. */
    public static void loginFailed(CuratorFramework client, boolean failed) {
        if (failed) {
            LOGIN_FAILED.put(client.getZookeeperClient(), Boolean.TRUE);
            anyRefused = true;
        } else if (anyRefused) {
            LOGIN_FAILED.remove(client.getZookeeperClient());
        }
    }

    /**
     * Whether {@code client} is refused for want of a SASL login: the ensemble refused it since its
     * last successful answer, or its current login failed.
     */
    public static boolean refused(CuratorFramework client) {
        if (!anyRefused) {
            return false;
        }
        CuratorZookeeperClient zk = client.getZookeeperClient();
        return REFUSED_CLIENTS.containsKey(zk) || LOGIN_FAILED.containsKey(zk);
    }
}
