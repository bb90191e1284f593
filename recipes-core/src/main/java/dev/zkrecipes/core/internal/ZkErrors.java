package dev.zkrecipes.core.internal;

import dev.zkrecipes.core.AlreadyExistsException;
import dev.zkrecipes.core.ConnectionLossException;
import dev.zkrecipes.core.NoSuchPathException;
import dev.zkrecipes.core.NotAuthorizedException;
import dev.zkrecipes.core.SessionExpiredException;
import dev.zkrecipes.core.VersionConflictException;
import dev.zkrecipes.core.ZkRecipeException;
import java.util.concurrent.TimeoutException;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;

/**
 * Turns the checked exceptions of Curator and ZooKeeper into the typed unchecked ones of
 * zk-recipes. {@link InterruptedException} is never swallowed: callers rethrow it before calling
 * {@link #translate}, and if it slips through the thread's interrupt flag is restored.
 */
public final class ZkErrors {

    private ZkErrors() {
    }

    /**
     * As {@link #translate(Throwable, String)}, for a call of {@code client}: a connection lost or a
     * bound passed while the client is refused for want of a SASL login ({@link SaslRefusals}) is
     * that refusal, not an unreachable ensemble.
     */
    public static RuntimeException translate(CuratorFramework client, Throwable e, String action) {
        SaslRefusals.heard(client, e);
        if (looksUnreachable(e) && SaslRefusals.refused(client)) {
            return new NotAuthorizedException("the ensemble requires SASL authentication and dropped this client's"
                    + " requests while " + action + ": it has no SASL login, or its login failed (see"
                    + " ZkRecipes.awaitConnected for why); give it working credentials with ZkRecipes.builder().sasl(...)."
                    + " A write sent before the refusal may have been applied: re-read once the client is served", e);
        }
        return translate(e, action);
    }

    private static boolean looksUnreachable(Throwable e) {
        return e instanceof TimeoutException || e instanceof KeeperException k
                && (k.code() == KeeperException.Code.CONNECTIONLOSS || k.code() == KeeperException.Code.OPERATIONTIMEOUT);
    }

    /** The exception to throw for {@code e}, which happened while doing {@code action}. */
    public static RuntimeException translate(Throwable e, String action) {
        if (e instanceof ZkRecipeException z) {
            return z;
        }
        if (e instanceof RuntimeException r && !(e instanceof IllegalStateException)) {
            return r;
        }
        if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
            return new ZkRecipeException("interrupted while " + action, e);
        }
        if (e instanceof TimeoutException) {
            // a call's own bound passed before ZooKeeper answered: as unknown as a lost connection
            return new ConnectionLossException("ZooKeeper did not answer in time while " + action
                    + "; check the ensemble is reachable. A write's outcome is unknown: re-read before retrying", e);
        }
        if (e instanceof KeeperException k) {
            switch (k.code()) {
                case CONNECTIONLOSS, OPERATIONTIMEOUT, REQUESTTIMEOUT:
                    return new ConnectionLossException("lost the connection to ZooKeeper while " + action
                            + " and the retry policy gave up; check the ensemble is reachable. A write's outcome is"
                            + " unknown: re-read before retrying", e);
                case SESSIONEXPIRED, SESSIONMOVED:
                    return new SessionExpiredException("the ZooKeeper session expired while " + action
                            + "; every ephemeral node it held is gone and must be re-acquired. A write sent before the"
                            + " expiry may or may not have been applied: re-read before retrying", e);
                case BADVERSION:
                    return new VersionConflictException("version conflict while " + action
                            + ": another client changed " + pathOf(k) + " first; re-read and retry", e);
                case NONODE:
                    return new NoSuchPathException("no node " + pathOf(k) + " while " + action
                            + ": it (or its parent) does not exist", e);
                case NODEEXISTS:
                    return new AlreadyExistsException("node " + pathOf(k) + " already exists while " + action, e);
                case NOAUTH:
                    return new NotAuthorizedException("not authorized while " + action + " on " + pathOf(k)
                            + ": the node's ACL does not grant this identity; check digestAuth credentials", e);
                case SESSIONCLOSEDREQUIRESASLAUTH:
                    return new NotAuthorizedException("the ensemble requires SASL authentication and refused this client"
                            + " while " + action + ": it has no SASL login, or its login failed; give it one with"
                            + " ZkRecipes.builder().sasl(...)", e);
                case AUTHFAILED:
                    return new NotAuthorizedException("the ensemble refused this client's credentials while " + action
                            + "; check the user and password (digestAuth or sasl)", e);
                default:
                    return new ZkRecipeException(k.code() + " while " + action + " on " + pathOf(k), e);
            }
        }
        return new ZkRecipeException("failed while " + action + ": " + e, e);
    }

    private static String pathOf(KeeperException k) {
        return k.getPath() != null ? "'" + k.getPath() + "'" : "the node";
    }
}
