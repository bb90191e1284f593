package dev.zkrecipes.it.security;

import dev.zkrecipes.core.ZkRecipes;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.security.auth.login.AppConfigurationEntry;
import javax.security.auth.login.Configuration;
import org.apache.curator.framework.api.CuratorEventType;
import org.apache.zookeeper.Watcher.Event.KeeperState;

/** What the SASL tests listen for, and the JAAS configuration that makes a client's next login fail. */
final class SaslEvents {

    private SaslEvents() {
    }

    /** Every SaslAuthenticated / AuthFailed the client hears from now on. */
    static List<KeeperState> saslStates(ZkRecipes zk) {
        List<KeeperState> states = new CopyOnWriteArrayList<>();
        zk.curator().getCuratorListenable().addListener((c, event) -> {
            if (event.getType() == CuratorEventType.WATCHED && event.getWatchedEvent() != null) {
                KeeperState s = event.getWatchedEvent().getState();
                if (s == KeeperState.SaslAuthenticated || s == KeeperState.AuthFailed) {
                    states.add(s);
                }
            }
        });
        return states;
    }

    /** A JVM-wide JAAS configuration without any section, as another library might install. */
    static Configuration emptyJaas() {
        return new Configuration() {
            @Override
            public AppConfigurationEntry[] getAppConfigurationEntry(String name) {
                return null;
            }
        };
    }
}
