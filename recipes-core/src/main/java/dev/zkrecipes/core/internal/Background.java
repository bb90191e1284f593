package dev.zkrecipes.core.internal;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
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
