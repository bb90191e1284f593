package dev.zkrecipes.it.election;

import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.election.LeaderElector;
import dev.zkrecipes.testing.LoopbackProxy;
import dev.zkrecipes.testing.ProxiedClient;
import dev.zkrecipes.testing.ZkServers;
import java.time.Duration;

/** One participant on its own client and session, connected through its own fault proxy. */
final class ProxiedParticipant implements AutoCloseable {

    final String id;
    final LoopbackProxy proxy;
    final ZkRecipes zk;
    final RecordingListener listener = new RecordingListener();
    final LeaderElector elector;
    private final ProxiedClient client;

    ProxiedParticipant(String serverConnectString, int serverPort, String election, String id, Duration session) {
        this.id = id;
        this.client = ProxiedClient.connect(serverConnectString, serverPort, session);
        this.proxy = client.proxy();
        this.zk = client.zk();
        this.elector = LeaderElector.builder(zk, election).participantId(id).listener(listener).build();
        elector.start();
    }

    /** Expires this participant's session on the server, bypassing its proxy. */
    void expireSession() {
        client.expireSession();
    }

    @Override
    public void close() {
        ZkServers.closeQuietly(elector);
        client.close();
    }

    @Override
    public String toString() {
        return id;
    }
}
