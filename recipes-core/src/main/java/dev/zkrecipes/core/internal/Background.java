package dev.zkrecipes.core.internal;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.BackgroundCallback;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.zookeeper.KeeperException;
import org.slf4j.LoggerFactory;

/**
 * Curator operations sent in the background and awaited with a {@link Deadline}: the only way to
 * bound a call, because Curator's foreground calls block through the whole retry policy.
 *
 * <pre>{@code
 * CuratorEvent e = Background.call(deadline, cb -> curator.getChildren().inBackground(cb).forPath(path));
 * }</pre>
 */
public final class Background {

    /** Sends one Curator operation with the given callback. */
    @FunctionalInterface
    public interface Sender {
        void send(BackgroundCallback callback) throws Exception;
    }

    /** The pause before {@link #callServed} sends again after a lost connection. */
    private static final long RESEND_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private Background() {
    }

    /** Sends the operation; the future completes with Curator's event, whatever its result code. */
    public static CompletableFuture<CuratorEvent> send(Sender sender) {
        CompletableFuture<CuratorEvent> future = new CompletableFuture<>();
        try {
            sender.send((client, event) -> {
                SaslRefusals.heard(client, event.getResultCode());
                future.complete(event);
            });
        } catch (Exception e) {
            future.completeExceptionally(e);
        }
        return future;
    }

    /**
     * Sends the operation and waits for it until {@code deadline}.
     *
     * @return the event of a successful operation
     * @throws KeeperException if ZooKeeper answered with an error
     * @throws TimeoutException if the deadline passed first (the operation goes on in the background)
     */
    public static CuratorEvent call(Deadline deadline, Sender sender) throws Exception {
        return succeeded(await(deadline, send(sender)));
    }

    /** Waits for a sent operation until {@code deadline}, unwrapping its failure. */
    public static CuratorEvent await(Deadline deadline, CompletableFuture<CuratorEvent> sent) throws Exception {
        try {
            return deadline.await(sent);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
    }

    /**
     * Like {@link #await(Deadline, CompletableFuture)}, for a call of {@code client}, which ends
     * early once the ensemble refuses that client for want of a SASL login ({@link SaslRefusals}):
     * such an ensemble drops the connection on each request, so the call would otherwise only run
     * out its bound.
     *
     * @throws KeeperException {@code SESSIONCLOSEDREQUIRESASLAUTH} once the client is refused
     */
    public static CuratorEvent awaitServed(CuratorFramework client, Deadline deadline, CompletableFuture<CuratorEvent> sent)
            throws Exception {
        while (true) {
            long slice = Math.min(deadline.remainingNanos(), SaslRefusals.REFUSAL_CHECK_NANOS);
            try {
                return sent.get(slice, TimeUnit.NANOSECONDS);
            } catch (ExecutionException e) {
                throw e.getCause() instanceof Exception cause ? cause : e;
            } catch (TimeoutException e) {
                if (SaslRefusals.refused(client)) {
                    throw KeeperException.create(KeeperException.Code.SESSIONCLOSEDREQUIRESASLAUTH);
                }
                if (deadline.remainingNanos() <= 0) {
                    throw e;
                }
            }
        }
    }

    /**
     * Sends an operation that may safely be sent again (a read, a create whose existing node is an
     * answer too) and waits for its answer until {@code deadline}, sending it again while Curator's
     * own retries end in a lost connection and time is left; ends early once the ensemble refuses
     * {@code client} ({@link #awaitServed}).
     *
     * @return the event of the first answer the ensemble gave, whatever its result code
     * @throws TimeoutException if the deadline passed first
     */
    public static CuratorEvent callServed(CuratorFramework client, Deadline deadline, Sender sender) throws Exception {
        while (true) {
            CuratorEvent event = awaitServed(client, deadline, send(sender));
            KeeperException.Code code = KeeperException.Code.get(event.getResultCode());
            boolean lost = code == KeeperException.Code.CONNECTIONLOSS || code == KeeperException.Code.OPERATIONTIMEOUT;
            long left = deadline.remainingNanos();
            if (!lost || left <= 0) {
                return event;
            }
            // Curator waited for the connection already; a short pause keeps a fast-failing one from spinning
            TimeUnit.NANOSECONDS.sleep(Math.min(left, RESEND_PAUSE_NANOS));
        }
    }

    /** The event itself if it reports success, else the matching {@link KeeperException}. */
    public static CuratorEvent succeeded(CuratorEvent event) throws KeeperException {
        if (event.getResultCode() != KeeperException.Code.OK.intValue()) {
            throw KeeperException.create(KeeperException.Code.get(event.getResultCode()), event.getPath());
        }
        return event;
    }

    /**
     * A create whose caller stopped waiting (its bound passed, or it was interrupted): if it lands,
     * its node is deleted at once (guaranteed, in the background), so nothing is left that nobody
     * owns; the session's end deletes an ephemeral one anyway.
     */
    public static void deleteWhenCreated(CuratorFramework curator, CompletableFuture<CuratorEvent> create) {
        create.thenAccept(event -> {
            if (event.getResultCode() == KeeperException.Code.OK.intValue() && event.getName() != null) {
                try {
                    curator.delete().guaranteed().inBackground().forPath(event.getName());
                } catch (Exception e) {
                    LoggerFactory.getLogger(Background.class).debug("could not delete {}, created after its caller gave"
                            + " up ({}); the session's end deletes it", event.getName(), e.toString());
                }
            }
        });
    }

    /** True for the exception a {@link Deadline} throws when it passed. */
    public static boolean isTimeout(Throwable e) {
        return e instanceof TimeoutException;
    }
}
