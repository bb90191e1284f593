package dev.zkrecipes.queue.internal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.apache.curator.utils.ZKPaths;

/**
 * Where a queue keeps things, under {@code /zkr/queues/<name>}:
 * <pre>
 *   tasks/b0000000042/t-0000000007   a pending task (persistent sequential); data = payload,
 *                                    data version = deliveries so far
 *   tail                             data = the bucket producers write to now
 *   claims/b0000000042-t-0000000007  ephemeral: the task is being handled by that session
 *   dead/b0000000042/t-0000000007    a dead letter (bucketed like the tasks)
 *   waiters/w-0000000003             ephemeral sequential: idle consumers, in line
 * </pre>
 * Buckets hold a bounded number of tasks, so no {@code getChildren} comes near
 * {@code jute.maxbuffer} however long the backlog.
 */
final class Layout {

    final String base;
    final String tasks;
    final String tail;
    final String claims;
    final String dead;
    final String waiters;

    Layout(String base) {
        this.base = base;
        this.tasks = ZKPaths.makePath(base, "tasks");
        this.tail = ZKPaths.makePath(base, "tail");
        this.claims = ZKPaths.makePath(base, "claims");
        this.dead = ZKPaths.makePath(base, "dead");
        this.waiters = ZKPaths.makePath(base, "waiters");
    }

    static String bucketName(long bucket) {
        return String.format("b%010d", bucket);
    }

    static long bucketNumber(String name) {
        return Long.parseLong(name.substring(1));
    }

    /** The names a queue uses for itself: a queue named {@code x/<one of these>} would collide with {@code x}. */
    static final Set<String> RESERVED = Set.of("tasks", "tail", "claims", "dead", "waiters");

    private static final Pattern BUCKET = Pattern.compile("b\\d{10}");
    private static final Pattern TASK = Pattern.compile("t-\\d{10}");

    /** The bucket names among {@code children}, sorted; anything else is reported and skipped. */
    static List<String> bucketsIn(List<String> children, Consumer<String> foreign) {
        List<String> buckets = new ArrayList<>(children.size());
        for (String child : children) {
            if (BUCKET.matcher(child).matches()) {
                buckets.add(child);
            } else {
                foreign.accept("tasks/" + child);
            }
        }
        Collections.sort(buckets);
        return buckets;
    }

    /** The task names among a bucket's {@code children}, sorted; anything else is reported and skipped. */
    static List<String> tasksIn(List<String> children, String bucketPath,
            Consumer<String> foreign) {
        List<String> tasks = new ArrayList<>(children.size());
        for (String child : children) {
            if (TASK.matcher(child).matches()) {
                tasks.add(child);
            } else {
                foreign.accept(bucketPath + "/" + child);
            }
        }
        Collections.sort(tasks);
        return tasks;
    }

    String bucket(long bucket) {
        return ZKPaths.makePath(tasks, bucketName(bucket));
    }

    /** {@code b0000000042/t-0000000007} for the task at {@code .../tasks/b0000000042/t-0000000007}. */
    String taskId(String taskPath) {
        return taskPath.substring(tasks.length() + 1);
    }

    String taskPath(String id) {
        return tasks + "/" + id;
    }

    String claimPath(String id) {
        return claims + "/" + id.replace('/', '-');
    }

    /**
     * {@code dead/b0000000042/t-0000000007}: dead letters are bucketed like the tasks they were, so
     * no listing of them ever holds more than one bucket's worth.
     */
    String deadPath(String id) {
        return dead + "/" + id;
    }

    /** The dead-letter bucket of task {@code id}. */
    String deadBucket(String id) {
        return dead + "/" + id.substring(0, id.indexOf('/'));
    }}
