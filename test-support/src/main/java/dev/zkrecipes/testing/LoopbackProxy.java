package dev.zkrecipes.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;

/**
 * A TCP proxy on 127.0.0.1 between ZooKeeper clients and one server, to inject network faults:
 * <ul>
 *   <li>{@link #blackhole()}: bytes stop flowing both ways, sockets stay open, new connections are
 *       accepted but hear nothing. The client notices only by its read timeout (about two thirds of
 *       the session timeout); the server expires the session at the full timeout.
 *   <li>{@link #heal()}: bytes flow again; what was held during the blackhole is delivered late, in
 *       order, as a stalled network would.
 *   <li>{@link #cut()}: every open connection is reset at once (the client sees Disconnected
 *       immediately); new connections work.
 *   <li>{@link #loseNextReply(int...)}, {@link #loseReplies(int, int...)}: the server applies a
 *       request but its reply never reaches the client, whose connection is reset instead; the client
 *       sees a connection loss for an operation that did happen.
 *   <li>{@link #stallRequests()}, {@link #stallRequestsFrom(int...)}, {@link #stallRequests(Duration)}:
 *       requests are held in the proxy, connections open and replies and events still flowing, until
 *       {@link #releaseRequests()}; the client's operations are in flight and unanswered meanwhile.
 * </ul>
 * The last two read ZooKeeper's framing (each packet is a 4-byte big-endian length and that many
 * bytes; after the first packet of a connection, a request starts with its xid and {@link Opcodes
 * opcode}, a reply with the xid it answers) but every byte is still forwarded unchanged and at once,
 * except that the first bytes of a frame (its length and header, at most 12) wait until they have
 * all arrived.
 * <p>
 * Point the client's connect string at {@link #connectString()}.
 */
public final class LoopbackProxy implements AutoCloseable {

    /**
     * ZooKeeper request opcodes (the {@code type} of a request header, as in ZooKeeper's
     * {@code ZooDefs.OpCode}), for {@link #loseNextReply(int...)} and {@link #stallRequestsFrom(int...)}.
     */
    public static final class Opcodes {
        public static final int CREATE = 1;
        public static final int DELETE = 2;
        public static final int EXISTS = 3;
        public static final int GET_DATA = 4;
        public static final int SET_DATA = 5;
        public static final int GET_CHILDREN = 8;
        public static final int SYNC = 9;
        public static final int PING = 11;
        public static final int GET_CHILDREN2 = 12;
        public static final int CHECK = 13;
        public static final int MULTI = 14;
        public static final int CREATE2 = 15;
        public static final int REMOVE_WATCHES = 18;
        public static final int CREATE_CONTAINER = 19;
        public static final int CREATE_TTL = 21;
        public static final int SET_WATCHES = 101;
        public static final int SET_WATCHES2 = 105;
        public static final int CLOSE_SESSION = -11;

        /**
         * Every opcode that creates a node: create, create2 (what Curator sends), createContainer and
         * createTTL. Do not modify the array.
         */
        public static final int[] CREATES = {CREATE, CREATE2, CREATE_CONTAINER, CREATE_TTL};

        /** Every opcode that changes the tree: the creates, delete, setData and multi. Do not modify. */
        public static final int[] WRITES = {CREATE, CREATE2, CREATE_CONTAINER, CREATE_TTL, DELETE, SET_DATA, MULTI};

        private Opcodes() {
        }
    }

    /**
     * A lost-reply fault armed by {@link #loseReplies(int, int...)}: how many of the replies it is to
     * drop the proxy has dropped so far.
     */
    public static final class LostReply {

        private final int count;
        private final Set<Integer> opcodes;
        private int picked; // requests whose reply is awaited or was dropped
        private int lost;
        private boolean disarmed;
        private int toSkip; // matching requests still to let through untouched

        private LostReply(int count, Set<Integer> opcodes, int skip) {
            this.count = count;
            this.opcodes = opcodes;
            this.toSkip = skip;
        }

        /** Replies dropped so far (each with its connection reset). */
        public synchronized int lost() {
            return lost;
        }

        /** Whether every reply this fault was armed for has been dropped. */
        public synchronized boolean isDone() {
            return lost >= count;
        }

        /**
         * Waits until every reply this fault was armed for has been dropped and its connection reset.
         *
         * @throws AssertionError if that has not happened within {@code timeout}
         * @throws IllegalStateException if the waiting thread is interrupted (its flag is set again)
         */
        public void await(Duration timeout) {
            long deadline = System.nanoTime() + timeout.toNanos();
            synchronized (this) {
                while (lost < count) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        throw new AssertionError("the proxy dropped " + lost + " of " + count
                                + " replies to opcodes " + opcodes + " within " + timeout);
                    }
                    try {
                        TimeUnit.NANOSECONDS.timedWait(this, left);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException("interrupted while waiting for a lost reply", e);
                    }
                }
            }
        }

        @Override
        public synchronized String toString() {
            return "LostReply[opcodes=" + opcodes + ", lost " + lost + " of " + count + "]";
        }

        /** Takes one of the requests still to be picked, if {@code opcode} is one of ours. */
        private synchronized boolean pick(int opcode) {
            if (disarmed || picked >= count || !opcodes.contains(opcode)) {
                return false;
            }
            if (toSkip > 0) {
                toSkip--;
                return false;
            }
            picked++;
            return true;
        }

        /** A picked request's connection ended before its reply came: the next match takes its place. */
        private synchronized void unpick() {
            picked--;
        }

        private synchronized void dropped() {
            lost++;
            notifyAll();
        }

        private synchronized void disarm() {
            disarmed = true;
        }
    }

    /** Requests held from the first one in {@code from} on each connection, or all of them if null. */
    private record Stall(Set<Integer> from, long generation) {

        boolean holdsAll() {
            return from == null;
        }

        /** Whether a held request of this type is one {@link #awaitStalledRequest} waits for. */
        boolean counts(int opcode) {
            return from == null ? opcode != Opcodes.PING : from.contains(opcode);
        }
    }

    /** The request {@code xid} on a connection, whose reply {@code by} is to drop. */
    private record Doomed(int xid, LostReply by) {
    }

    private static final AtomicInteger COUNTER = new AtomicInteger();

    private final InetSocketAddress target;
    private final ServerSocket listener;
    private final List<Connection> connections = new CopyOnWriteArrayList<>();
    private final Object flow = new Object();
    private volatile boolean blackholed;
    private volatile boolean closed;

    private volatile LostReply armed;

    /** Orders the stall* and release* calls; taken before a connection's lock, never after. */
    private final Map<Integer, LongAdder> requestsSeen = new ConcurrentHashMap<>();
    private final Object stallLock = new Object();
    private volatile Stall stall;
    private long stallGenerations;

    /** Guards {@link #stalledRequests}: matching requests held since the stall began. */
    private final Object stalledSignal = new Object();
    private int stalledRequests;

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

    /**
     * How many requests of each {@link Opcodes opcode} clients have sent through this proxy so far,
     * on every connection (pings included, as {@link Opcodes#PING}; the connect request is not
     * counted): e.g. to check that idle recipes send nothing but pings.
     */
    public Map<Integer, Long> requestsSeen() {
        Map<Integer, Long> seen = new TreeMap<>();
        requestsSeen.forEach((opcode, n) -> seen.put(opcode, n.sum()));
        return seen;
    }

    public boolean isBlackholed() {
        return blackholed;
    }

    /** Resets every open connection (RST, not FIN), like a crashed router; new connections work. */
    public void cut() {
        for (Connection c : connections) {
            c.end();
        }
    }

    /** {@link #loseReplies(int, int...) loseReplies(1, opcodes)}. */
    public LostReply loseNextReply(int... opcodes) {
        return loseReplies(1, opcodes);
    }

    /**
     * Arms a lost-reply fault: the next {@code count} requests, on any connection through this proxy,
     * whose opcode is one of {@code opcodes} (see {@link Opcodes}) go to the server as usual, but when
     * the server's reply to one of them (the reply with its xid) arrives, the proxy does not forward
     * it and resets both sockets of that connection at once (RST, as {@link #cut()}). Replies before
     * it on the connection are forwarded. The client sees a connection loss for an operation the
     * server has applied, and reconnects through this proxy on the same session; new connections work
     * normally.
     * <p>
     * One request per connection is picked at a time: a matching request sent on a connection that
     * already has one whose reply is to be lost is forwarded untouched (the reset will cut it off
     * too, answered or not). A picked request whose connection ends for another reason before its
     * reply arrives does not count, and the next matching request takes its place. Arming again
     * disarms the previous fault for requests not yet picked.
     *
     * @return the fault, to wait until the replies have been dropped
     */
    public LostReply loseReplies(int count, int... opcodes) {
        return arm(count, 0, opcodes);
    }

    /**
     * Like {@link #loseNextReply(int...)}, but lets the first {@code skip} matching requests through
     * untouched: loses the reply to the {@code skip + 1}-th, e.g. the last delete of a known sequence.
     */
    public LostReply loseReplyAfter(int skip, int... opcodes) {
        if (skip < 0) {
            throw new IllegalArgumentException("skip must not be negative: " + skip);
        }
        return arm(1, skip, opcodes);
    }

    private LostReply arm(int count, int skip, int... opcodes) {
        if (count < 1) {
            throw new IllegalArgumentException("count must be positive: " + count);
        }
        LostReply next = new LostReply(count, opcodeSet(opcodes), skip);
        LostReply previous = armed;
        armed = next;
        if (previous != null) {
            previous.disarm();
        }
        return next;
    }

    /**
     * Holds every byte from clients to the server, on every connection and on connections opened
     * meanwhile, until {@link #releaseRequests()}. Sockets stay open and bytes from the server still
     * flow, but as pings are held too, the client drops its connection after its read timeout (two
     * thirds of the session timeout) if the stall lasts that long; what a connection held is discarded
     * when it ends.
     */
    public void stallRequests() {
        startStall(null);
    }

    /**
     * Like {@link #stallRequests()}, but each connection starts holding at its first request whose
     * opcode is one of {@code opcodes}: that request and every byte after it on that connection are
     * held until {@link #releaseRequests()}, the bytes before it flow.
     */
    public void stallRequestsFrom(int... opcodes) {
        startStall(opcodeSet(opcodes));
    }

    /**
     * {@link #stallRequests()}, then {@link #releaseRequests()} by itself after {@code duration}
     * (unless another stall or release came meanwhile).
     */
    public void stallRequests(Duration duration) {
        long generation = startStall(null);
        CompletableFuture.delayedExecutor(duration.toNanos(), TimeUnit.NANOSECONDS)
                .execute(() -> release(generation));
    }

    /**
     * Ends the stall: what each connection held is written to the server, in order, before this
     * returns (even during a {@link #blackhole()}), and bytes flow again.
     */
    public void releaseRequests() {
        release(-1);
    }

    /** Whether a stall is on (requests may be held). */
    public boolean isStalling() {
        return stall != null;
    }

    /**
     * Waits until the current stall holds a request it was started for: one whose opcode was given to
     * {@link #stallRequestsFrom(int...)}, or under {@link #stallRequests()} any request but a ping.
     * Such a request has reached the proxy and is in flight, unanswered.
     *
     * @return true once such a request is held, false if none is within {@code timeout}
     * @throws IllegalStateException if the waiting thread is interrupted (its flag is set again)
     */
    public boolean awaitStalledRequest(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (stalledSignal) {
            while (stalledRequests == 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(stalledSignal, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for a stalled request", e);
                }
            }
            return true;
        }
    }

    @Override
    public void close() {
        closed = true;
        LostReply fault = armed;
        if (fault != null) {
            fault.disarm();
        }
        synchronized (stallLock) {
            stall = null;
        }
        heal();
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        cut();
    }

    private long startStall(Set<Integer> from) {
        synchronized (stallLock) {
            long generation = ++stallGenerations;
            setStalledRequests(0);
            stall = new Stall(from, generation);
            return generation;
        }
    }

    /** Ends the stall of {@code generation}, or whichever is on if -1. */
    private void release(long generation) {
        synchronized (stallLock) {
            Stall current = stall;
            if (generation != -1 && (current == null || current.generation() != generation)) {
                return;
            }
            stall = null;
            setStalledRequests(0);
            for (Connection c : connections) {
                c.releaseHeld();
            }
        }
    }

    private void setStalledRequests(int n) {
        synchronized (stalledSignal) {
            stalledRequests = n;
            stalledSignal.notifyAll();
        }
    }

    private void noteStalledRequest() {
        synchronized (stalledSignal) {
            stalledRequests++;
            stalledSignal.notifyAll();
        }
    }

    private static Set<Integer> opcodeSet(int... opcodes) {
        if (opcodes.length == 0) {
            throw new IllegalArgumentException("give at least one opcode");
        }
        return Arrays.stream(opcodes).boxed().collect(Collectors.toUnmodifiableSet());
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
                Connection c = new Connection(client, server);
                connections.add(c);
                c.start();
            } catch (IOException e) {
                if (!closed) {
                    continue;
                }
                return;
            }
        }
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

    /**
     * One client connection and the proxy's connection to the server for it, pumped by two threads:
     * client to server (requests, which may be held or picked to lose their reply) and server to
     * client (replies and events, which may be dropped).
     */
    private final class Connection {

        private final Socket client;
        private final Socket server;
        private final OutputStream toServer;
        private final OutputStream toClient;
        private final AtomicBoolean ended = new AtomicBoolean();
        /** The request on this connection whose reply is to be dropped, if any. */
        private final AtomicReference<Doomed> doomed = new AtomicReference<>();

        // client to server, guarded by this
        private final FrameReader requests = new FrameReader(8); // xid, opcode
        private final ByteArrayOutputStream requestBytes = new ByteArrayOutputStream();
        private ByteArrayOutputStream held; // not null while this connection's requests are held
        private final FrameReader.Handler requestHandler = new FrameReader.Handler() {
            @Override
            public boolean frameStarts(boolean first, ByteBuffer header) throws IOException {
                onRequest(header);
                return true;
            }

            @Override
            public void bytes(byte[] b, int off, int len) {
                (held != null ? held : requestBytes).write(b, off, len);
            }
        };

        // server to client, only its pump
        private final FrameReader replies = new FrameReader(4); // xid
        private final ByteArrayOutputStream replyBytes = new ByteArrayOutputStream();
        private final FrameReader.Handler replyHandler = new FrameReader.Handler() {
            @Override
            public boolean frameStarts(boolean first, ByteBuffer header) throws IOException {
                return first || header.remaining() < 4 || !dropIfDoomed(header.getInt());
            }

            @Override
            public void bytes(byte[] b, int off, int len) {
                replyBytes.write(b, off, len);
            }
        };

        Connection(Socket client, Socket server) throws IOException {
            this.client = client;
            this.server = server;
            this.toServer = server.getOutputStream();
            this.toClient = client.getOutputStream();
        }

        void start() {
            daemon(this::clientToServer, "up");
            daemon(this::serverToClient, "down");
        }

        private void daemon(Runnable pump, String direction) {
            Thread t = new Thread(pump, "loopback-proxy-" + direction);
            t.setDaemon(true);
            t.start();
        }

        private void clientToServer() {
            byte[] buffer = new byte[16 * 1024];
            try {
                InputStream in = client.getInputStream();
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    awaitFlow();
                    fromClient(buffer, n);
                }
            } catch (IOException | InterruptedException e) {
                // the other pump, cut(), close() or a lost reply ended the connection
            } finally {
                end();
            }
        }

        private void serverToClient() {
            byte[] buffer = new byte[16 * 1024];
            try {
                InputStream in = server.getInputStream();
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    awaitFlow();
                    if (!replies.feed(buffer, 0, n, replyHandler)) {
                        return; // a reply was lost, the connection is reset
                    }
                    flushReplies();
                }
            } catch (IOException | InterruptedException e) {
                // the other pump, cut() or close() ended the connection
            } finally {
                end();
            }
        }

        private synchronized void fromClient(byte[] buffer, int n) throws IOException {
            Stall s = stall;
            if (held == null && s != null && s.holdsAll()) {
                hold();
            }
            requests.feed(buffer, 0, n, requestHandler);
            flushRequests();
        }

        /** A request frame starts here (its bytes are not yet passed on). */
        private void onRequest(ByteBuffer header) throws IOException {
            boolean hasHeader = header.remaining() >= 8; // not the ConnectRequest
            int xid = hasHeader ? header.getInt() : 0;
            int opcode = hasHeader ? header.getInt() : 0;
            if (hasHeader) {
                requestsSeen.computeIfAbsent(opcode, o -> new LongAdder()).increment();
                pickForLostReply(xid, opcode);
            }
            Stall s = stall;
            if (s == null) {
                return;
            }
            if (held == null && (s.holdsAll() || hasHeader && s.from().contains(opcode))) {
                hold();
            }
            if (held != null && hasHeader && s.counts(opcode)) {
                noteStalledRequest();
            }
        }

        private void pickForLostReply(int xid, int opcode) {
            LostReply fault = armed;
            if (fault == null || doomed.get() != null || !fault.pick(opcode)) {
                return;
            }
            Doomed d = new Doomed(xid, fault);
            doomed.set(d);
            if (ended.get() && doomed.compareAndSet(d, null)) {
                fault.unpick(); // end() ran meanwhile and will not see it
            }
        }

        /** Sends what came before, then holds everything from here on. */
        private void hold() throws IOException {
            flushRequests();
            held = new ByteArrayOutputStream();
        }

        private void flushRequests() throws IOException {
            if (requestBytes.size() > 0) {
                requestBytes.writeTo(toServer);
                requestBytes.reset();
                toServer.flush();
            }
        }

        synchronized void releaseHeld() {
            if (held == null) {
                return;
            }
            ByteArrayOutputStream release = held;
            held = null;
            try {
                release.writeTo(toServer);
                toServer.flush();
            } catch (IOException e) {
                end();
            }
        }

        /** True if reply {@code xid} was to be lost: the replies before it are sent, the connection reset. */
        private boolean dropIfDoomed(int xid) throws IOException {
            Doomed d = doomed.get();
            if (d == null || d.xid() != xid || !doomed.compareAndSet(d, null)) {
                return false;
            }
            flushReplies();
            end();
            d.by().dropped();
            return true;
        }

        private void flushReplies() throws IOException {
            if (replyBytes.size() > 0) {
                replyBytes.writeTo(toClient);
                replyBytes.reset();
                toClient.flush();
            }
        }

        /** Resets both sockets (RST); idempotent. What was held is discarded. */
        void end() {
            if (!ended.compareAndSet(false, true)) {
                return;
            }
            reset(client);
            reset(server);
            connections.remove(this);
            Doomed d = doomed.getAndSet(null);
            if (d != null) {
                d.by().unpick();
            }
        }
    }

    /**
     * Splits one direction of a connection into ZooKeeper (jute) frames: a 4-byte big-endian length
     * and that many bytes. Passes every byte on unchanged, but announces each frame before its first
     * byte, with the first {@code peek} bytes after its length (its header) once they have all
     * arrived; the connection's first frame (ConnectRequest or ConnectResponse) has no header.
     */
    static final class FrameReader {

        interface Handler {
            /**
             * A frame starts. {@code header} holds the {@code peek} bytes after its length, or nothing
             * for a connection's first frame or a frame shorter than that.
             *
             * @return false to drop the frame and stop reading
             */
            boolean frameStarts(boolean first, ByteBuffer header) throws IOException;

            /** Bytes to pass on, in order. */
            void bytes(byte[] b, int off, int len) throws IOException;
        }

        private static final int LENGTH = 4;

        private final int peek;
        private final byte[] prefix; // the current frame's length and header, while they arrive
        private int filled;
        private int wanted = LENGTH;
        private long body; // bytes of the current frame after its prefix, not yet passed on
        private boolean inBody;
        private boolean first = true;

        FrameReader(int peek) {
            this.peek = peek;
            this.prefix = new byte[LENGTH + peek];
        }

        /** Reads {@code len} bytes from {@code b[off]}; false if the handler dropped a frame. */
        boolean feed(byte[] b, int off, int len, Handler handler) throws IOException {
            int end = off + len;
            while (off < end) {
                if (inBody) {
                    int k = (int) Math.min(body, end - off);
                    handler.bytes(b, off, k);
                    off += k;
                    body -= k;
                    inBody = body > 0;
                    continue;
                }
                int k = Math.min(wanted - filled, end - off);
                System.arraycopy(b, off, prefix, filled, k);
                filled += k;
                off += k;
                if (filled < wanted) {
                    continue;
                }
                if (wanted == LENGTH) {
                    long length = Integer.toUnsignedLong(ByteBuffer.wrap(prefix, 0, LENGTH).getInt());
                    int header = first || length < peek ? 0 : peek;
                    body = length - header;
                    if (header > 0) {
                        wanted = LENGTH + header;
                        continue;
                    }
                }
                if (!handler.frameStarts(first, ByteBuffer.wrap(prefix, LENGTH, filled - LENGTH))) {
                    return false;
                }
                handler.bytes(prefix, 0, filled);
                first = false;
                filled = 0;
                wanted = LENGTH;
                inBody = body > 0;
            }
            return true;
        }
    }
}
