package dev.zkrecipes.it.election;

import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.election.LeaderElector;
import dev.zkrecipes.testing.Clients;
import dev.zkrecipes.testing.LoopbackProxy;
import dev.zkrecipes.testing.SessionKiller;
import dev.zkrecipes.testing.ZkServers;
import java.time.Duration;

/** One participant on its own client and session, connected through its own fault proxy. */
final class ProxiedParticipant implements AutoCloseable {

    final String id;
    final LoopbackProxy proxy;
    final ZkRecipes zk;
    final RecordingListener listener = new RecordingListener();
    final LeaderElector elector;
    private final String serverConnectString;

    ProxiedParticipant(String serverConnectString, int serverPort, String election, String id, Duration session) {
        this.id = id;
        this.serverConnectString = serverConnectString;
        this.proxy = LoopbackProxy.to(serverPort);
        this.zk = Clients.connect(proxy.connectString(), session);
        this.elector = LeaderElector.builder(zk, election).participantId(id).listener(listener).build();
        elector.start();
    }

    /** Expires this participant's session on the server, bypassing its proxy. */
    void expireSession() {
        SessionKiller.expire(zk.curator(), serverConnectString);
    }

    @Override
    public void close() {
        ZkServers.closeQuietly(elector);
        ZkServers.closeQuietly(zk);
        ZkServers.closeQuietly(proxy);
    }

    @Override
    public String toString() {
        return id;
    }
}
