package dev.zkrecipes.core.internal;

import dev.zkrecipes.core.ZkRecipes;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.curator.framework.api.ACLProvider;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;

/**
 * The ACLs of an authenticated client, made for an ensemble that many services share.
 *
 * <ul>
 *   <li>Shared parents -- the namespace root, {@code /zkr} and {@code /zkr/<kind>} -- are readable by
 *       anyone and anyone may create children under them, so every identity can start its own
 *       recipes; nobody but the super identity may delete under them or change them.
 *   <li>Everything else -- a recipe's node and all below it (an election, a lock, a queue, a store,
 *       and the intermediate nodes of a nested name) -- gets the ACL of {@code recipeNodes},
 *       creator-only by default: other identities can neither read, join, take, change nor delete.
 * </ul>
 * Since ZooKeeper checks a child's delete against its parent, nobody but the creator of a recipe
 * can remove the nodes under it, whoever created the shared parents.
 */
public final class RecipeAcl implements ACLProvider {

    /**
     * Readable by anyone; anyone may add children; nobody may delete children, write or change the
     * ACL (the super identity aside). Whoever happened to create a shared parent gets no more
     * rights than anyone: with DELETE it could remove another identity's idle recipe node (an
     * empty store), with ADMIN lock everyone out. The list is one ZooKeeper can take: it
     * probes ACL lists with {@code contains(null)}, which an immutable {@code List.of} refuses.
     */
    public static final List<ACL> SHARED_PARENT = Collections.unmodifiableList(new ArrayList<>(List.of(
            new ACL(ZooDefs.Perms.READ | ZooDefs.Perms.CREATE, ZooDefs.Ids.ANYONE_ID_UNSAFE))));
    private static final List<ACL> CREATOR_ONLY = Collections.unmodifiableList(new ArrayList<>(ZooDefs.Ids.CREATOR_ALL_ACL));

    private final String namespacePrefix;
    private final ACLProvider recipeNodes;

    /**
     * @param namespace the client's namespace, or null
     * @param recipeNodes the ACLs of recipe nodes; null for creator-only
     */
    public RecipeAcl(String namespace, ACLProvider recipeNodes) {
        this.namespacePrefix = namespace == null ? "" : "/" + namespace;
        this.recipeNodes = recipeNodes;
    }

    @Override
    public List<ACL> getDefaultAcl() {
        return recipeNodes != null ? copy(recipeNodes.getDefaultAcl()) : CREATOR_ONLY;
    }

    @Override
    public List<ACL> getAclForPath(String path) {
        if (path != null && isSharedParent(path)) {
            return SHARED_PARENT;
        }
        return recipeNodes != null ? copy(recipeNodes.getAclForPath(path)) : CREATOR_ONLY;
    }

    /** The user's list as ZooKeeper can take it (a {@code List.of} would fail inside ZooKeeper). */
    private static List<ACL> copy(List<ACL> acl) {
        return acl == null ? null : new ArrayList<>(acl);
    }

    /** True for the namespace root, {@code /zkr} and {@code /zkr/<kind>}, with or without the namespace. */
    boolean isSharedParent(String path) {
        String p = !namespacePrefix.isEmpty() && (path.equals(namespacePrefix) || path.startsWith(namespacePrefix + "/"))
                ? path.substring(namespacePrefix.length()) : path;
        if (p.isEmpty() || p.equals("/") || p.equals(ZkRecipes.ROOT)) {
            return true;
        }
        if (!p.startsWith(ZkRecipes.ROOT + "/")) {
            return false;
        }
        return p.indexOf('/', ZkRecipes.ROOT.length() + 1) < 0;
    }
}
