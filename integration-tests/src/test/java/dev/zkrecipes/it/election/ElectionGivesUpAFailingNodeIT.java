package dev.zkrecipes.it.election;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.zkrecipes.core.NotAuthorizedException;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.election.LeaderElector;
import dev.zkrecipes.testing.Clients;
import dev.zkrecipes.testing.EmbeddedZk;
import dev.zkrecipes.testing.ZkServers;
import java.time.Duration;
import java.util.List;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A participant that may not take part (here: it may create and delete under the election, but
 * not read it) must not block the election for the whole session: refused for lack of rights, it
 * says so ({@link NotAuthorizedException} from its elector) and gives its node up at once, and the
 * next participant leads. (Other failures that keep coming give the node up after a few in a row.)
 */
class ElectionGivesUpAFailingNodeIT {

    @RegisterExtension
    static final EmbeddedZk zk = EmbeddedZk.withClients(1);

    @Test
    void aParticipantThatKeepsFailingAtTheHeadOfTheLineLetsTheNextOneLead() throws Exception {
        String election = "/zkr/elections/stuck";
        Id reader = new Id("digest", DigestAuthenticationProvider.generateDigest("reader:pw"));
        List<ACL> createAndDeleteOnly = List.of(
                new ACL(ZooDefs.Perms.CREATE | ZooDefs.Perms.DELETE, ZooDefs.Ids.ANYONE_ID_UNSAFE),
                new ACL(ZooDefs.Perms.ALL, reader));
        zk.client(0).curator().create().creatingParentsIfNeeded().withACL(createAndDeleteOnly, false).forPath(election);

        ZkRecipes readerClient = ZkRecipes.builder().connectString(zk.connectString()).digestAuth("reader", "pw").build();
        readerClient.start();
        assertThat(readerClient.awaitConnected(Duration.ofSeconds(10))).isTrue();
        ZkRecipes blindClient = Clients.connect(zk.connectString(), Duration.ofSeconds(10));
        try (LeaderElector blind = LeaderElector.builder(blindClient, "stuck").participantId("blind").build();
                LeaderElector seeing = LeaderElector.builder(readerClient, "stuck").participantId("seeing").build()) {
            blind.start();
            // the blind participant may create its node but not read the line: it is told so, loudly,
            // and gives its node up rather than block the head of the line
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThatThrownBy(blind::isLeader).isInstanceOf(NotAuthorizedException.class));
            seeing.start();

            assertThat(seeing.awaitLeadership(Duration.ofSeconds(20))).isPresent();
            assertThatThrownBy(blind::isLeader).isInstanceOf(NotAuthorizedException.class);
        } finally {
            ZkServers.closeQuietly(blindClient);
            ZkServers.closeQuietly(readerClient);
        }
    }
}
