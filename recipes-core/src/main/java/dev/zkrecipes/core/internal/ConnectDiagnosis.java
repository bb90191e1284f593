package dev.zkrecipes.core.internal;

import dev.zkrecipes.core.TlsHandshakeException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.apache.zookeeper.client.ConnectStringParser;

/**
 * Decides, while a client waits for its connection, whether TLS is why it cannot connect. ZooKeeper's
 * client never says: it logs and reconnects. A client that is not connected a short grace after
 * start (a fifth of the connection timeout, at most 500 ms) probes every server of its connect string
 * once, in parallel, each probe bounded by the rest of the connection timeout. If no server completes
 * a handshake and at least one failed for a TLS reason, the verdict is a
 * {@link TlsHandshakeException}. Probes run only while not connected and at most once per connection
 * timeout, so a healthy client never makes one.
 */
public final class ConnectDiagnosis {

    private static final long MAX_GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    private final List<InetSocketAddress> servers;
    private final HandshakeProbe probe;
    private final long connectionTimeoutNanos;
    private final long graceNanos;

    private long startedNanos;
    private long lastRunNanos;
    private boolean ran;
    private TlsHandshakeException verdict;

    public ConnectDiagnosis(String connectString, HandshakeProbe probe, Duration connectionTimeout) {
        this.servers = new ConnectStringParser(connectString).getServerAddresses();
        this.probe = probe;
        this.connectionTimeoutNanos = connectionTimeout.toNanos();
        this.graceNanos = Math.min(MAX_GRACE_NANOS, connectionTimeoutNanos / 5);
    }

    /** Marks the client started: the grace runs from here. */
    public synchronized void started() {
        startedNanos = System.nanoTime();
    }

    /** When {@link #check(long)} may next probe, on the {@link System#nanoTime()} scale. */
    public synchronized long nextCheckNanos() {
        return ran ? lastRunNanos + connectionTimeoutNanos : startedNanos + graceNanos;
    }

    /**
     * The TLS verdict for a client that is still not connected: a recent one again, or a new one from
     * probes that end by {@code deadlineNanos} and within the connection timeout. Stops waiting for
     * the probes, without a verdict, as soon as {@code connected} turns true.
     *
     * @return the failure to report, or {@code null} if TLS is not (known to be) the problem
     */
    public synchronized TlsHandshakeException check(long deadlineNanos, BooleanSupplier connected) throws InterruptedException {
        long now = System.nanoTime();
        if (now - nextCheckNanos() < 0) {
            return verdict;
        }
        long budget = Math.min(deadlineNanos - now, connectionTimeoutNanos - graceNanos);
        if (budget <= TimeUnit.MILLISECONDS.toNanos(20)) {
            return verdict;
        }
        ran = true;
        lastRunNanos = now;
        verdict = judge(probeAll(Duration.ofNanos(budget), connected));
        return verdict;
    }

    private List<HandshakeProbe.Outcome> probeAll(Duration budget, BooleanSupplier connected) throws InterruptedException {
        List<CompletableFuture<HandshakeProbe.Outcome>> running = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (InetSocketAddress server : servers) {
            CompletableFuture<HandshakeProbe.Outcome> f = new CompletableFuture<>();
            Thread t = new Thread(() -> f.complete(probe.probe(server, budget)), "zkr-tls-probe-" + server.getHostString());
            t.setDaemon(true);
            t.start();
            running.add(f);
            threads.add(t);
        }
        long end = System.nanoTime() + budget.toNanos() + TimeUnit.MILLISECONDS.toNanos(100);
        List<HandshakeProbe.Outcome> outcomes = new ArrayList<>();
        for (int i = 0; i < running.size(); i++) {
            while (true) {
                if (connected.getAsBoolean()) {
                    threads.forEach(Thread::interrupt);
                    return List.of();
                }
                long left = end - System.nanoTime();
                try {
                    outcomes.add(running.get(i).get(Math.max(0, Math.min(left, POLL_NANOS)), TimeUnit.NANOSECONDS));
                    break;
                } catch (TimeoutException e) {
                    if (left <= POLL_NANOS) {
                        threads.get(i).interrupt();
                        break;
                    }
                } catch (ExecutionException e) {
                    break;
                }
            }
        }
        return outcomes;
    }

    static TlsHandshakeException judge(List<HandshakeProbe.Outcome> outcomes) {
        if (outcomes.stream().anyMatch(HandshakeProbe.Outcome::completed)) {
            return null;
        }
        List<HandshakeProbe.Outcome> failed = outcomes.stream().filter(o -> o.verdict() != null).collect(Collectors.toList());
        if (failed.isEmpty()) {
            return null;
        }
        String message = failed.stream()
                .map(o -> "TLS handshake with " + o.server() + " failed: " + o.cause())
                .collect(Collectors.joining("; "));
        HandshakeProbe.Outcome first = failed.get(0);
        return new TlsHandshakeException(first.server(), first.verdict(), message, first.error());
    }
}
