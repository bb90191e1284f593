package dev.zkrecipes.lock.internal;

import dev.zkrecipes.core.FencingToken;
import dev.zkrecipes.core.internal.NodePayload;
import dev.zkrecipes.core.internal.ZkErrors;
import dev.zkrecipes.lock.LockHolder;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

/** Reads a lock's line for operators, and names the clients in it. */
public final class Holders {

    private static final String HOST = hostName();

    private Holders() {
    }

    private static final long PID = ProcessHandle.current().pid();

    /** The last payload of each thread, with the thread name it was made for (a name may change). */
    private static final ThreadLocal<Payload> LAST = new ThreadLocal<>();

    private record Payload(String threadName, byte[] bytes) {
    }

    /** The id written into a node: {@code host:pid:thread}. Each call returns a fresh array. */
    public static byte[] payloadForCurrentThread() {
        String name = Thread.currentThread().getName();
        Payload last = LAST.get();
        if (last == null || !last.threadName().equals(name)) {
            String thread = name.length() > 200 ? name.substring(0, 200) : name;
            last = new Payload(name, NodePayload.encode(HOST + ":" + PID + ":" + thread, new byte[0]));
            LAST.set(last);
        }
        return last.bytes().clone();
    }

    /**
     * How others see a node of each kind in a line of mutex, read and write nodes: read nodes wait
     * for any node of another kind ahead; every other kind holds only at the head.
     */
    public static Function<String, Policy> policyOfKind(Policy exclusive) {
        Policy readForOthers = Policy.read(() -> null);
        return kind -> kind.equals(Policy.READ) ? readForOthers : exclusive;
    }

    /** Every node of the line, in order, with whether it holds under its kind's policy. */
    public static List<LockHolder> read(CuratorFramework curator, String parentPath, Function<String, Policy> policyOfKind) {
        List<String> line;
        try {
            line = LockNode.line(curator.getChildren().forPath(parentPath));
        } catch (KeeperException.NoNodeException e) {
            return List.of();
        } catch (Exception e) {
            throw ZkErrors.translate(curator, e, "reading the holders of " + parentPath);
        }
        List<LockHolder> result = new ArrayList<>();
        for (int i = 0; i < line.size(); i++) {
            String node = line.get(i);
            try {
                Stat stat = new Stat();
                byte[] data = curator.getData().storingStatIn(stat).forPath(ZKPaths.makePath(parentPath, node));
                String kind = LockNode.kindOf(node);
                Policy policy = policyOfKind.apply(kind);
                boolean holding = policy != null && policy.blocker(line, i) == null;
                result.add(new LockHolder(NodePayload.decode(data, node).id(), FencingToken.of(stat.getCzxid()), holding, kind));
            } catch (KeeperException.NoNodeException gone) {
                // released between the two reads
            } catch (Exception e) {
                throw ZkErrors.translate(curator, e, "reading the holders of " + parentPath);
            }
        }
        return result;
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            return "localhost";
        }
    }
}
