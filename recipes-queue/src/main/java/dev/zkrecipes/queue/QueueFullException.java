package dev.zkrecipes.queue;

import dev.zkrecipes.core.ZkRecipeException;

/**
 * A put found the queue at its {@link TaskQueue.Builder#capacity capacity} and no room came within
 * the configured wait. Nothing was sent: the tasks are not in the queue. Retry later, or shed load.
 */
public final class QueueFullException extends ZkRecipeException {
    private static final long serialVersionUID = 1L;

    public QueueFullException(String message) {
        super(message);
    }
}
