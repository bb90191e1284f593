package dev.zkrecipes.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy on 127.0.0.1 between one client and a ZooKeeper server, to inject network faults:
 * <ul>
 *   <li>{@link #blackhole()}: bytes stop flowing both ways, sockets stay open, new connections are
 *       accepted but hear nothing. The client notices only by its read timeout (about two thirds of
 *       the session timeout); the server expires the session at the full timeout.
 *   <li>{@link #heal()}: bytes flow again; what was held during the blackhole is delivered late, in
 *       order, as a stalled network would.
 *   <li>{@link #cut()}: every open connection is reset at once (the client sees Disconnected
 *       immediately); new connections work.
 * </ul>
 * Point the client's connect string at {@link #connectString()}.
 */
public final class LoopbackProxy implements AutoCloseable {

    private static final AtomicInteger COUNTER = new AtomicInteger();

    private final InetSocketAddress target;
    private final ServerSocket listener;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final Object flow = new Object();
    private volatile boolean blackholed;
    private volatile boolean closed;

    private LoopbackProxy(int targetPort) throws IOException {
        this.target = new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort);
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::acceptLoop, "loopback-proxy-" + COUNTER.incrementAndGet());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** Starts a proxy to {@code 127.0.0.1:targetPort}. */
    public static LoopbackProxy to(int targetPort) {
        try {
            return new LoopbackProxy(targetPort);
        } catch (IOException e) {
            throw new IllegalStateException("could not open a loopback proxy", e);
        }
    }

    public int port() {
        return listener.getLocalPort();
    }

    /** {@code 127.0.0.1:<port>}: give this to the client instead of the server's address. */
    public String connectString() {
        return "127.0.0.1:" + port();
    }

    /** Stops every byte in both directions, keeping connections open. */
    public void blackhole() {
        blackholed = true;
    }

    /** Lets bytes flow again. */
    public void heal() {
        synchronized (flow) {
            blackholed = false;
            flow.notifyAll();
        }
    }

    public boolean isBlackholed() {
        return blackholed;
    }

    /** Resets every open connection (RST, not FIN), like a crashed router; new connections work. */
    public void cut() {
        for (Socket s : sockets) {
            reset(s);
        }
        sockets.clear();
    }

    @Override
    public void close() {
        closed = true;
        heal();
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        cut();
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket client = listener.accept();
                Socket server = new Socket();
                try {
                    server.connect(target, 5000);
                } catch (IOException e) {
                    reset(client);
                    continue;
                }
                client.setTcpNoDelay(true);
                server.setTcpNoDelay(true);
                sockets.add(client);
                sockets.add(server);
                pump(client, server, "up");
                pump(server, client, "down");
            } catch (IOException e) {
                if (!closed) {
                    continue;
                }
                return;
            }
        }
    }

    private void pump(Socket from, Socket to, String direction) {
        Thread t = new Thread(() -> {
            byte[] buffer = new byte[16 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    awaitFlow();
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException | InterruptedException e) {
                // the other pump, cut() or close() ended the connection
            } finally {
                reset(from);
                reset(to);
                sockets.remove(from);
                sockets.remove(to);
            }
        }, "loopback-proxy-" + direction);
        t.setDaemon(true);
        t.start();
    }

    private void awaitFlow() throws InterruptedException {
        if (!blackholed) {
            return;
        }
        synchronized (flow) {
            while (blackholed && !closed) {
                flow.wait();
            }
        }
    }

    private static void reset(Socket s) {
        try {
            s.setSoLinger(true, 0);
        } catch (SocketException ignored) {
            // already closed
        }
        try {
            s.close();
        } catch (IOException ignored) {
            // already closed
        }
    }
}
