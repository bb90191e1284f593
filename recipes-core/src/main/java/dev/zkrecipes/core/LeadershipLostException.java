package dev.zkrecipes.core;

/**
 * A guarded write was refused because the caller no longer holds the leadership term or the lock
 * it wrote under: the holder's znode is gone (session expired, resigned, released) or the holder is
 * suspended because its connection is in doubt. Nothing of the refused transaction was applied.
 *
 * <p>What to do: stop acting as leader or holder; wait for the recipe to elect or grant again and
 * retry the work under the new term's token.
 */
public class LeadershipLostException extends ZkRecipeException {
    private static final long serialVersionUID = 1L;

    public LeadershipLostException(String message) {
        super(message);
    }

    public LeadershipLostException(String message, Throwable cause) {
        super(message, cause);
    }
}
