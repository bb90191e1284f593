package dev.zkrecipes.core.internal;

import dev.zkrecipes.core.TlsHandshakeException.Reason;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * One JDK TLS handshake against one server, to tell why ZooKeeper's client cannot connect: it only
 * logs and reconnects. For a TLS client the handshake uses the client's own trust and key material
 * and host name rule; for a plaintext client it only asks "does this port answer in TLS?", with a
 * trust manager that refuses every certificate (it notes that one was offered) so nothing is ever
 * trusted and no data is sent.
 */
public final class HandshakeProbe {

    /** How long to wait after a completed handshake for a TLS 1.3 server's rejection of our certificate. */
    private static final int POST_HANDSHAKE_WAIT_MILLIS = 300;

    /**
     * What one probe found.
     *
     * @param server {@code host:port}
     * @param verdict {@code null} when the probe found no TLS problem (handshake fine, or the server
     *        unreachable, which is not a TLS matter)
     * @param cause plain words for the message, when there is a verdict
     * @param error the underlying error, if any
     */
    public record Outcome(String server, Reason verdict, String cause, Throwable error) {
        static Outcome fine(String server) {
            return new Outcome(server, null, "handshake completed", null);
        }

        static Outcome noVerdict(String server, String what, Throwable error) {
            return new Outcome(server, null, what, error);
        }

        /** True if the handshake completed. */
        public boolean completed() {
            return verdict == null && error == null;
        }
    }

    private final Supplier<SSLContext> context;
    private final boolean hostnameVerification;
    private final String trustStoreName;

    private HandshakeProbe(Supplier<SSLContext> context, boolean hostnameVerification, String trustStoreName) {
        this.context = context;
        this.hostnameVerification = hostnameVerification;
        this.trustStoreName = trustStoreName;
    }

    /** A probe for a TLS client: the client's own material, read when a probe runs. */
    public static HandshakeProbe tls(Supplier<SSLContext> context, boolean hostnameVerification, String trustStoreName) {
        return new HandshakeProbe(context, hostnameVerification, trustStoreName);
    }

    /** A probe for a plaintext client: does the server expect TLS? */
    public static HandshakeProbe plaintext() {
        return new HandshakeProbe(null, false, null);
    }

    boolean isTls() {
        return context != null;
    }

    /** Probes {@code server} within about {@code timeout}. Never throws. */
    public Outcome probe(InetSocketAddress server, Duration timeout) {
        String name = server.getHostString() + ":" + server.getPort();
        int millis = (int) Math.max(50, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        Socket raw = new Socket();
        try {
            try {
                raw.connect(new InetSocketAddress(server.getHostString(), server.getPort()), millis);
            } catch (IOException e) {
                return Outcome.noVerdict(name, "unreachable", e);
            }
            raw.setSoTimeout(millis);
            return isTls() ? tlsProbe(raw, server, name) : plaintextProbe(raw, server, name);
        } catch (IOException | RuntimeException e) {
            return Outcome.noVerdict(name, "probe failed", e);
        } finally {
            try {
                raw.close();
            } catch (IOException ignored) {
                // nothing to do
            }
        }
    }

    private Outcome tlsProbe(Socket raw, InetSocketAddress server, String name) throws IOException {
        SSLSocket socket = (SSLSocket) context.get().getSocketFactory().createSocket(raw, server.getHostString(), server.getPort(), true);
        try (socket) {
            SSLParameters params = socket.getSSLParameters();
            if (hostnameVerification) {
                params.setEndpointIdentificationAlgorithm("HTTPS");
            }
            socket.setSSLParameters(params);
            try {
                socket.startHandshake();
            } catch (IOException e) {
                return classify(name, e);
            }
            // TLS 1.3: a server that refuses our certificate says so after its own Finished
            socket.setSoTimeout(POST_HANDSHAKE_WAIT_MILLIS);
            try {
                if (socket.getInputStream().read() < 0) {
                    return new Outcome(name, Reason.CLIENT_CERTIFICATE_REJECTED, "the server closed the connection right after"
                            + " the handshake: it does not accept this client's certificate (or wants one and got none)", null);
                }
            } catch (SocketTimeoutException expected) {
                // the server accepted us and waits for ZooKeeper's connect request
            } catch (IOException e) {
                return classify(name, e);
            }
            return Outcome.fine(name);
        }
    }

    private Outcome plaintextProbe(Socket raw, InetSocketAddress server, String name) throws IOException {
        AtomicBoolean offered = new AtomicBoolean();
        SSLContext detector;
        try {
            detector = SSLContext.getInstance("TLS");
            detector.init(null, new TrustManager[] {new RefuseAll(offered)}, null);
        } catch (java.security.GeneralSecurityException e) {
            return Outcome.noVerdict(name, "no TLS in this JVM", e);
        }
        try (SSLSocket socket = (SSLSocket) detector.getSocketFactory().createSocket(raw, server.getHostString(), server.getPort(), true)) {
            socket.startHandshake();
            offered.set(true);
        } catch (IOException e) {
            if (!offered.get() && !receivedAlert(e)) {
                return Outcome.noVerdict(name, "no TLS on this port", e);
            }
        }
        return new Outcome(name, Reason.CLIENT_NOT_TLS, "the server expects TLS on this port but this client speaks"
                + " plaintext: build the client with .tls(TlsConfig...), or use the server's plaintext clientPort", null);
    }

    /** Plain words for a failed handshake. */
    Outcome classify(String name, IOException e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            String msg = c.getMessage() == null ? "" : c.getMessage();
            if (c instanceof CertificateException && (msg.startsWith("No subject alternative") || msg.startsWith("No name matching"))) {
                String host = name.substring(0, name.lastIndexOf(':'));
                return new Outcome(name, Reason.HOSTNAME_MISMATCH, "hostname mismatch: the server's certificate does not name '"
                        + host + "' (" + msg + "); give the certificate this name in its subject alternative names,"
                        + " connect by a name it carries, or turn hostnameVerification off", e);
            }
            if (c instanceof CertificateExpiredException) {
                return new Outcome(name, Reason.UNTRUSTED_CERTIFICATE, "certificate not trusted: the server's certificate has expired ("
                        + msg + ")", e);
            }
            if (c instanceof CertPathBuilderException || c instanceof CertPathValidatorException) {
                return new Outcome(name, Reason.UNTRUSTED_CERTIFICATE, "certificate not trusted: the server's certificate does not chain"
                        + " to a certificate in the trust store " + trustStoreName + " (" + msg + ")", e);
            }
        }
        String top = e.getMessage() == null ? "" : e.getMessage();
        String lower = top.toLowerCase(Locale.ROOT);
        if (receivedAlert(e)) {
            if (lower.contains("certificate") || lower.contains("unknown_ca") || lower.contains("access_denied")) {
                return new Outcome(name, Reason.CLIENT_CERTIFICATE_REJECTED, "the server refused this client's certificate ("
                        + top + "): check the key store, and that the server trusts the CA that signed it", e);
            }
            return new Outcome(name, Reason.OTHER, "the server refused the handshake (" + top + "): check the TLS protocol"
                    + " versions and cipher suites on both sides", e);
        }
        if (e instanceof SocketTimeoutException) {
            return Outcome.noVerdict(name, "no answer", e);
        }
        if (lower.contains("unsupported or unrecognized ssl message") || lower.contains("plaintext connection")
                || lower.contains("terminated the handshake") || e instanceof EOFException || hasCause(e, EOFException.class)
                || e instanceof SocketException) {
            return new Outcome(name, Reason.SERVER_NOT_TLS, "peer does not speak TLS: the server answered the TLS hello in"
                    + " plaintext or hung up; is this the plaintext clientPort instead of the secureClientPort?", e);
        }
        if (e instanceof SSLException) {
            return new Outcome(name, Reason.OTHER, "the TLS layer refused the handshake: " + top, e);
        }
        return Outcome.noVerdict(name, "connection failed", e);
    }

    private static boolean receivedAlert(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof SSLHandshakeException || c instanceof SSLException) {
                String msg = c.getMessage();
                if (msg != null && msg.startsWith("Received fatal alert")) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean hasCause(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }

    /** Trusts nothing; notes whether the server offered a certificate, which proves it speaks TLS. */
    private static final class RefuseAll extends X509ExtendedTrustManager {
        private final AtomicBoolean offered;

        RefuseAll(AtomicBoolean offered) {
            this.offered = offered;
        }

        private void refuse() throws CertificateException {
            offered.set(true);
            throw new CertificateException("detection only: no certificate is trusted");
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            refuse();
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            refuse();
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            refuse();
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            throw new CertificateException("client side only");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            throw new CertificateException("client side only");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("client side only");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
