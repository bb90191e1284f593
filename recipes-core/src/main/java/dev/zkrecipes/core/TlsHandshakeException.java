package dev.zkrecipes.core;

import static java.util.Objects.requireNonNull;

/**
 * The client could not connect because the TLS handshake with the ensemble's servers cannot
 * complete: ZooKeeper's own client would only keep reconnecting in silence, so
 * {@link ZkRecipes#awaitConnected(java.time.Duration)} reports it instead, within the connection
 * timeout. The message names the server ({@code host:port}) and the cause in plain words; the
 * {@link #reason()} says the same for code. What to do depends on the reason: fix the trust store,
 * the certificate's names, or the port and TLS settings of the client.
 *
 * <p>The client keeps trying in the background with the same settings; close it, or fix the server
 * side and wait again.
 */
public class TlsHandshakeException extends ZkRecipeException {
    private static final long serialVersionUID = 1L;

    /** Why the handshake cannot complete. */
    public enum Reason {
        /** The server's certificate does not chain to a certificate of the trust store (or has expired). */
        UNTRUSTED_CERTIFICATE,
        /** The server's certificate does not name the host as written in the connect string. */
        HOSTNAME_MISMATCH,
        /** The client speaks TLS but the server does not on that port (a plaintext {@code clientPort}?). */
        SERVER_NOT_TLS,
        /** The server speaks TLS but the client was built without {@code tls(...)}. */
        CLIENT_NOT_TLS,
        /** The server refused this client's certificate, or wanted one and got none. */
        CLIENT_CERTIFICATE_REJECTED,
        /** Anything else the TLS layer refused, such as no common protocol version; see the message. */
        OTHER
    }

    private final String server;
    private final Reason reason;

    /**
     * @param server {@code host:port} of the (first) server whose handshake failed
     * @param reason why, for code
     * @param message the whole message, naming the server and the cause
     * @param cause the underlying TLS or socket error, if any
     */
    public TlsHandshakeException(String server, Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.server = requireNonNull(server, "server");
        this.reason = requireNonNull(reason, "reason");
    }

    /** {@code host:port} of the server whose handshake failed (the first one, if several did). */
    public String server() {
        return server;
    }

    /** Why the handshake cannot complete. */
    public Reason reason() {
        return reason;
    }
}
