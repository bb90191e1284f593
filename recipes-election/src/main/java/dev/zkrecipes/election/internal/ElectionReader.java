package dev.zkrecipes.election.internal;

import dev.zkrecipes.core.FencingToken;
import dev.zkrecipes.core.internal.NodePayload;
import dev.zkrecipes.core.internal.SequentialNodes;
import dev.zkrecipes.core.internal.ZkErrors;
import dev.zkrecipes.election.Participant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

/** Reads an election's participants, in election order, as the ensemble reports them now. */
public final class ElectionReader {

    private ElectionReader() {
    }

    /** Every participant in election order; empty when the election has none (or no node yet). */
    public static List<Participant> participants(CuratorFramework curator, String electionPath) {
        List<Participant> result = new ArrayList<>();
        for (String child : children(curator, electionPath)) {
            read(curator, ZKPaths.makePath(electionPath, child)).ifPresent(result::add);
        }
        return result;
    }

    /** The first participant, who leads; empty when there is none. */
    public static Optional<Participant> leader(CuratorFramework curator, String electionPath) {
        for (String child : children(curator, electionPath)) {
            Optional<Participant> p = read(curator, ZKPaths.makePath(electionPath, child));
            if (p.isPresent()) {
                return p;
            }
            // the first node left between the two reads: its successor leads now
        }
        return Optional.empty();
    }

    static List<String> children(CuratorFramework curator, String electionPath) {
        try {
            return SequentialNodes.sortedProtected(curator.getChildren().forPath(electionPath), Candidate.NODE_NAME);
        } catch (KeeperException.NoNodeException e) {
            return List.of();
        } catch (Exception e) {
            throw ZkErrors.translate(curator, e, "reading the participants of " + electionPath);
        }
    }

    /** The participant at {@code path}, or empty if the node is gone. */
    static Optional<Participant> read(CuratorFramework curator, String path) {
        try {
            Stat stat = new Stat();
            byte[] bytes = curator.getData().storingStatIn(stat).forPath(path);
            return Optional.of(toParticipant(path, bytes, stat));
        } catch (KeeperException.NoNodeException e) {
            return Optional.empty();
        } catch (Exception e) {
            throw ZkErrors.translate(curator, e, "reading participant " + path);
        }
    }

    static Participant toParticipant(String path, byte[] bytes, Stat stat) {
        NodePayload payload = NodePayload.decode(bytes, SequentialNodes.nodeName(path));
        return new Participant(payload.id(), payload.data(), FencingToken.of(stat.getCzxid()));
    }
}
