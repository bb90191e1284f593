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

    /** The provider {@code client} was built with, or null if it is not known here (a wrapped client). */
    public static ACLProvider providerOf(CuratorFramework client) {
        return KNOWN.get(client.getZookeeperClient());
    }

    /**
     * The ACL Curator would give a node created at {@code path} (with the namespace) by a client
     * built with {@code provider}, as Curator picks it: the provider's list for the path, else its
     * default, else open.
     */
    public static List<ACL> forPath(ACLProvider provider, String path) {
        List<ACL> acl = provider.getAclForPath(path);
        if (acl == null) {
            acl = provider.getDefaultAcl();
        }
        return acl != null ? acl : ZooDefs.Ids.OPEN_ACL_UNSAFE;
    }
}
