package dev.zkrecipes.testing;

import dev.zkrecipes.core.ZkRecipes;
import java.time.Duration;

/**
 * A client on its own session, connected to a server through its own {@link LoopbackProxy}, so a
 * test can cut, blackhole or expire this one client while the others go on.
 */
public final class ProxiedClient implements AutoCloseable {

    private final LoopbackProxy proxy;
    private final ZkRecipes zk;
    private final String serverConnectString;

    private ProxiedClient(String serverConnectString, int serverPort, Duration session) {
        this.serverConnectString = serverConnectString;
        this.proxy = LoopbackProxy.to(serverPort);
        this.zk = Clients.connect(proxy.connectString(), session);
    }

    /** Connects through a new proxy to the server at {@code 127.0.0.1:serverPort}. */
    public static ProxiedClient connect(String serverConnectString, int serverPort, Duration session) {
        return new ProxiedClient(serverConnectString, serverPort, session);
    }

    public ZkRecipes zk() {
        return zk;
    }

    public LoopbackProxy proxy() {
        return proxy;
    }

    /** Expires this client's session on the server, bypassing its proxy (the dangerous order). */
    public void expireSession() {
        SessionKiller.expire(zk.curator(), serverConnectString);
    }

    @Override
    public void close() {
        ZkServers.closeQuietly(zk);
        ZkServers.closeQuietly(proxy);
    }
}
