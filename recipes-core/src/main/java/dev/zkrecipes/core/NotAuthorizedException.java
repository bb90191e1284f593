package dev.zkrecipes.core;

/**
 * The ensemble refused an operation for lack of rights (ZooKeeper's {@code NOAUTH}): the node's ACL
 * does not grant this client's identity what it asked for. Also thrown when opening a store or an
 * observer that the caller may not read, instead of showing it as empty. What to do: check the
 * client's credentials ({@code digestAuth}) and the ACL of the path named in the message.
 */
public class NotAuthorizedException extends ZkRecipeException {
    private static final long serialVersionUID = 1L;

    public NotAuthorizedException(String message) {
        super(message);
    }

    public NotAuthorizedException(String message, Throwable cause) {
        super(message, cause);
    }
}
