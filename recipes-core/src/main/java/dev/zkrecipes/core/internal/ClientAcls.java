package dev.zkrecipes.core.internal;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import org.apache.curator.CuratorZookeeperClient;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.ACLProvider;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;

/**
 * The ACL provider each client built by {@code ZkRecipes} gave Curator, for the few requests a
 * recipe sends on ZooKeeper's own handle: Curator keeps its provider to itself. A client wrapped
 * from the user's own Curator is not known here, and its recipes send everything through Curator.
 */
public final class ClientAcls {

    /** Keyed by the ZooKeeper client that namespaced views of one Curator share; weak, so a dropped client goes. */
    private static final Map<CuratorZookeeperClient, ACLProvider> KNOWN = Collections.synchronizedMap(new WeakHashMap<>());

    private ClientAcls() {
    }

    /** {@code client} was built with {@code provider} (Curator's default one if the builder set none). */
    public static void register(CuratorFramework client, ACLProvider provider) {
        KNOWN.put(client.getZookeeperClient(), provider);
    }

    /** Whether the ACLs of {@code client}'s creates are known here. */
    public static boolean known(CuratorFramework client) {
        return KNOWN.containsKey(client.getZookeeperClient());
    }

    /**
     * The ACL Curator would give a node {@code client} creates at {@code path} (with the namespace),
     * as Curator picks it: the provider's list for the path, else its default, else open.
     *
     * @throws IllegalStateException if the client is not {@link #known}
     */
    public static List<ACL> forPath(CuratorFramework client, String path) {
        ACLProvider provider = KNOWN.get(client.getZookeeperClient());
        if (provider == null) {
            throw new IllegalStateException("the ACLs of this client are not known: send through Curator");
        }
        List<ACL> acl = provider.getAclForPath(path);
        if (acl == null) {
            acl = provider.getDefaultAcl();
        }
        return acl != null ? acl : ZooDefs.Ids.OPEN_ACL_UNSAFE;
    }
}
