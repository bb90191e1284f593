package dev.zkrecipes.testing;

import dev.zkrecipes.core.ZkRecipes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One embedded server per test class, optionally with connected clients, started before the first
 * test and closed after the last:
 * <pre>{@code
 * @RegisterExtension static final EmbeddedZk zk = EmbeddedZk.withClients(4);
 * }</pre>
 */
public final class EmbeddedZk implements BeforeAllCallback, AfterAllCallback {

    private final int clientCount;
    private TestingServer server;
    private final List<ZkRecipes> clients = new ArrayList<>();

    private EmbeddedZk(int clientCount) {
        this.clientCount = clientCount;
    }

    /** A server and no clients. */
    public static EmbeddedZk server() {
        return new EmbeddedZk(0);
    }

    /** A server and {@code n} connected clients with the default 15 s session. */
    public static EmbeddedZk withClients(int n) {
        return new EmbeddedZk(n);
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        server = ZkServers.startServer();
        for (int i = 0; i < clientCount; i++) {
            clients.add(Clients.connect(server.getConnectString()));
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        clients.forEach(ZkServers::closeQuietly);
        clients.clear();
        ZkServers.closeQuietly(server);
    }

    public TestingServer testingServer() {
        return server;
    }

    public String connectString() {
        return server.getConnectString();
    }

    public int port() {
        return server.getPort();
    }

    public ZkRecipes client(int i) {
        return clients.get(i);
    }

    public List<ZkRecipes> clients() {
        return List.copyOf(clients);
    }

    /** A new client on its own session behind its own fault proxy; the caller closes it. */
    public ProxiedClient proxiedClient(Duration session) {
        return ProxiedClient.connect(connectString(), port(), session);
    }
}
