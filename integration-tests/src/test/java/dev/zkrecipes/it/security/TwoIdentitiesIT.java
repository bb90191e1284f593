package dev.zkrecipes.it.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.zkrecipes.config.ConfigStore;
import dev.zkrecipes.config.FileMetadata;
import dev.zkrecipes.config.FileMetadataStore;
import dev.zkrecipes.core.NotAuthorizedException;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.election.LeaderElector;
import dev.zkrecipes.election.LeaderObserver;
import dev.zkrecipes.election.Leadership;
import dev.zkrecipes.election.Participant;
import dev.zkrecipes.lock.DistributedLock;
import dev.zkrecipes.lock.DistributedReadWriteLock;
import dev.zkrecipes.lock.DistributedSemaphore;
import dev.zkrecipes.lock.LockHandle;
import dev.zkrecipes.lock.Permit;
import dev.zkrecipes.queue.Serializers;
import dev.zkrecipes.queue.Task;
import dev.zkrecipes.queue.TaskQueue;
import dev.zkrecipes.testing.EmbeddedZk;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.ACLProvider;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two identities, alice and bob, sharing one ensemble: each runs every recipe under its own names,
 * whoever created the shared parents; neither can read, change, delete, join or take the other's,
 * with raw Curator calls or through the recipes, and the recipes say so with
 * {@link NotAuthorizedException} instead of looking empty. Each test uses its own namespace, so that
 * which identity creates the shared parents is up to the test.
 */
class TwoIdentitiesIT {

    @RegisterExtension
    static final EmbeddedZk zk = EmbeddedZk.server();

    private static final Duration WAIT = Duration.ofSeconds(10);

    private final List<AutoCloseable> opened = new ArrayList<>();

    @AfterEach
    void closeAll() {
        for (int i = opened.size() - 1; i >= 0; i--) {
            try {
                opened.get(i).close();
            } catch (Exception ignored) {
                // best effort
            }
        }
        opened.clear();
    }

    private static String namespace(TestInfo info) {
        return "two-ids-" + info.getTestMethod().orElseThrow().getName();
    }

    private ZkRecipes client(String namespace, String user, String password, ACLProvider acl) throws InterruptedException {
        ZkRecipes.Builder b = ZkRecipes.builder().connectString(zk.connectString()).namespace(namespace);
        if (user != null) {
            b.digestAuth(user, password);
        }
        if (acl != null) {
            b.aclProvider(acl);
        }
        ZkRecipes client = b.build();
        opened.add(client);
        client.start();
        assertThat(client.awaitConnected(WAIT)).isTrue();
        return client;
    }

    private ZkRecipes alice(String ns) throws InterruptedException {
        return client(ns, "alice", "pw-a", null);
    }

    private ZkRecipes bob(String ns) throws InterruptedException {
        return client(ns, "bob", "pw-b", null);
    }

    private <T extends AutoCloseable> T keep(T closeable) {
        opened.add(closeable);
        return closeable;
    }

    private static void refused(ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOf(KeeperException.NoAuthException.class);
    }

    private static void notAuthorized(ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOf(NotAuthorizedException.class);
    }

    private static String digest(String user, String password) throws Exception {
        return DigestAuthenticationProvider.generateDigest(user + ":" + password);
    }

    // ---- 1. both identities run every recipe, whoever created the shared parents ----

    @Test
    void bobCreatesTheSharedParentsFirstAndAliceStillRunsEveryRecipe(TestInfo info) throws Exception {
        String ns = namespace(info);
        ZkRecipes bob = bob(ns);
        ZkRecipes alice = alice(ns);
        runEveryRecipe(bob, "bob");
        runEveryRecipe(alice, "alice");
        // and again, now that both have nodes of their own next to each other's
        runEveryRecipe(bob, "bob");
    }

    @Test
    void aliceCreatesTheSharedParentsFirstAndBobStillRunsEveryRecipe(TestInfo info) throws Exception {
        String ns = namespace(info);
        ZkRecipes alice = alice(ns);
        ZkRecipes bob = bob(ns);
        runEveryRecipe(alice, "alice");
        runEveryRecipe(bob, "bob");
        runEveryRecipe(alice, "alice");
    }

    private void runEveryRecipe(ZkRecipes zk, String who) throws Exception {
        try (LeaderElector elector = LeaderElector.builder(zk, who + "-election").participantId(who).build()) {
            elector.start();
            Optional<Leadership> term = elector.awaitLeadership(WAIT);
            assertThat(term).as(who + " leads its own election").isPresent();
            assertThat(elector.currentLeader().map(Participant::id)).contains(who);
            try (LeaderObserver observer = LeaderObserver.of(zk, who + "-election")) {
                assertThat(observer.awaitLeader(Optional::isPresent, WAIT).flatMap(l -> l).map(Participant::id)).contains(who);
            }
        }

        DistributedLock lock = DistributedLock.of(zk, who + "-lock");
        try (LockHandle h = lock.tryAcquire(WAIT).orElseThrow()) {
            assertThat(h.isValid()).isTrue();
            assertThat(lock.holders()).hasSize(1);
        }
        DistributedReadWriteLock rw = DistributedReadWriteLock.of(zk, who + "-rw");
        try (LockHandle w = rw.writeLock().tryAcquire(WAIT).orElseThrow()) {
            assertThat(w.isValid()).isTrue();
        }
        try (LockHandle r = rw.readLock().tryAcquire(WAIT).orElseThrow()) {
            assertThat(r.isValid()).isTrue();
        }
        DistributedSemaphore semaphore = DistributedSemaphore.of(zk, who + "-sem", 2);
        try (Permit p = semaphore.tryAcquire(WAIT).orElseThrow()) {
            assertThat(semaphore.holders()).hasSize(1);
        }

        TaskQueue<String> queue = TaskQueue.builder(zk, who + "-queue", Serializers.utf8()).build();
        queue.put("job of " + who);
        Task<String> task = queue.poll(WAIT).orElseThrow();
        assertThat(task.payload()).isEqualTo("job of " + who);
        task.ack();
        await().atMost(WAIT).until(() -> queue.size() == 0);

        try (ConfigStore cfg = ConfigStore.open(zk, who + "-config")) {
            cfg.put("workers", "8");
            assertThat(cfg.getInt("workers", 4)).isEqualTo(8);
        }
        try (ConfigStore again = ConfigStore.open(zk, who + "-config")) {
            assertThat(again.getInt("workers", 4)).isEqualTo(8);
        }

        try (FileMetadataStore fs = FileMetadataStore.open(zk, who + "-fs")) {
            if (fs.stat("/data/a.parquet").isEmpty()) {
                fs.create("/data/a.parquet", FileMetadata.builder().size(1024).build());
            }
            assertThat(fs.stat("/data/a.parquet")).isPresent();
            assertThat(fs.list("/data")).containsExactly("a.parquet");
        }
    }

    // ---- alice's recipes, set up for the tests that attack them ----

    /** What alice holds while bob tries: a held lock, a leading elector, a task, a store and a file tree. */
    private record AlicesRecipes(LockHandle lock, LeaderElector elector, String taskId) {
    }

    private AlicesRecipes aliceSetsUp(ZkRecipes alice) throws Exception {
        LockHandle lock = keep(DistributedLock.of(alice, "alice-lock").tryAcquire(WAIT).orElseThrow());
        keep(DistributedSemaphore.of(alice, "alice-sem", 2).tryAcquire(WAIT).orElseThrow());
        keep(DistributedReadWriteLock.of(alice, "alice-rw").readLock().tryAcquire(WAIT).orElseThrow());
        LeaderElector elector = keep(LeaderElector.builder(alice, "alice-election").participantId("alice").build());
        elector.start();
        assertThat(elector.awaitLeadership(WAIT)).isPresent();
        String taskId = TaskQueue.builder(alice, "alice-queue", Serializers.utf8()).build().put("alice's job");
        try (ConfigStore cfg = ConfigStore.open(alice, "alice-config")) {
            cfg.put("workers", "8");
        }
        try (FileMetadataStore fs = FileMetadataStore.open(alice, "alice-fs")) {
            fs.create("/secret/plan.txt", FileMetadata.builder().size(42).build());
        }
        return new AlicesRecipes(lock, elector, taskId);
    }

    // ---- 2. raw Curator calls as bob ----

    @Test
    void bobCannotReadWriteOrDeleteAlicesNodesWithRawCalls(TestInfo info) throws Exception {
        String ns = namespace(info);
        ZkRecipes alice = alice(ns);
        ZkRecipes bob = bob(ns);
        AlicesRecipes hers = aliceSetsUp(alice);
        CuratorFramework raw = bob.curator();
        byte[] junk = "bob".getBytes(StandardCharsets.UTF_8);

        // her held lock: its node cannot be listed, read, changed or deleted, nor can bob queue behind it
        String lockPath = "/zkr/locks/alice-lock";
        List<String> lockNodes = alice.curator().getChildren().forPath(lockPath);
        assertThat(lockNodes).hasSize(1);
        String heldNode = lockPath + "/" + lockNodes.get(0);
        refused(() -> raw.getChildren().forPath(lockPath));
        refused(() -> raw.getData().forPath(heldNode));
        refused(() -> raw.setData().forPath(heldNode, junk));
        refused(() -> raw.delete().forPath(heldNode));
        refused(() -> raw.create().forPath(lockPath + "/_c_bob-lock-0000000001", junk));
        // the hostile trial: delete her held node, then take her lock
        notAuthorized(() -> DistributedLock.of(bob, "alice-lock").tryAcquire(WAIT));
        assertThat(alice.curator().getChildren().forPath(lockPath)).containsExactlyElementsOf(lockNodes);
        assertThat(hers.lock().isValid()).isTrue();

        // her queue's task
        String queuePath = "/zkr/queues/alice-queue";
        String taskPath = queuePath + "/tasks/" + hers.taskId();
        refused(() -> raw.getChildren().forPath(queuePath));
        refused(() -> raw.getChildren().forPath(queuePath + "/tasks"));
        refused(() -> raw.getData().forPath(taskPath));
        refused(() -> raw.setData().forPath(taskPath, junk));
        refused(() -> raw.delete().forPath(taskPath));
        refused(() -> raw.create().forPath(queuePath + "/tasks/b9999999999", junk));
        assertThat(alice.curator().checkExists().forPath(taskPath)).isNotNull();

        // her config store
        String configPath = "/zkr/config/alice-config";
        refused(() -> raw.getData().forPath(configPath));
        refused(() -> raw.getChildren().forPath(configPath));
        refused(() -> raw.setData().forPath(configPath, junk));
        refused(() -> raw.create().forPath(configPath + "/nested", junk));
        refused(() -> raw.delete().forPath(configPath));

        // her election and her file tree
        String electionPath = "/zkr/elections/alice-election";
        refused(() -> raw.getChildren().forPath(electionPath));
        String leaderNode = electionPath + "/" + alice.curator().getChildren().forPath(electionPath).get(0);
        refused(() -> raw.getData().forPath(leaderNode));
        refused(() -> raw.delete().forPath(leaderNode));
        refused(() -> raw.getData().forPath("/zkr/fs/alice-fs/secret/plan.txt"));
        refused(() -> raw.delete().forPath("/zkr/fs/alice-fs/secret/plan.txt"));
        refused(() -> raw.setData().forPath("/zkr/fs/alice-fs", junk));

        assertThat(hers.elector().isLeader()).isTrue();
        try (ConfigStore cfg = ConfigStore.open(alice, "alice-config")) {
            assertThat(cfg.getInt("workers", 4)).isEqualTo(8);
        }
    }

    @Test
    void bobCannotDeleteAlicesIdleRecipeNodesEvenWhenHeCreatedTheSharedParents(TestInfo info) throws Exception {
        String ns = namespace(info);
        ZkRecipes bob = bob(ns);
        ZkRecipes alice = alice(ns);
        runEveryRecipe(bob, "bob");          // bob creates /zkr and every /zkr/<kind>
        try (ConfigStore cfg = ConfigStore.open(alice, "alice-config")) {
            cfg.put("workers", "8");
        }
        CuratorFramework raw = bob.curator();
        // a store without children: only the DELETE right on /zkr/config stands between bob and it
        refused(() -> raw.delete().forPath("/zkr/config/alice-config"));
        notAuthorized(() -> ConfigStore.deleteStore(bob, "alice-config"));
        try (ConfigStore cfg = ConfigStore.open(alice, "alice-config")) {
            assertThat(cfg.getInt("workers", 4)).isEqualTo(8);
        }
    }

    // ---- 3. the recipe API as bob, and as a client without credentials ----

    @Test
    void recipesRefuseBobOnAlicesNamesWithNotAuthorized(TestInfo info) throws Exception {
        String ns = namespace(info);
        ZkRecipes alice = alice(ns);
        ZkRecipes bob = bob(ns);
        AlicesRecipes hers = aliceSetsUp(alice);
        everyRecipeRefuses(bob, "bob");
        assertThat(hers.lock().isValid()).isTrue();
        assertThat(hers.elector().isLeader()).isTrue();
    }

    @Test
    void recipesRefuseAClientWithoutCredentialsWithNotAuthorized(TestInfo info) throws Exception {
        String ns = namespace(info);
        ZkRecipes alice = alice(ns);
        ZkRecipes anonymous = client(ns, null, null, null);
        AlicesRecipes hers = aliceSetsUp(alice);
        everyRecipeRefuses(anonymous, "anonymous");
        assertThat(hers.lock().isValid()).isTrue();
        assertThat(hers.elector().isLeader()).isTrue();
    }

    private void everyRecipeRefuses(ZkRecipes other, String who) throws Exception {
        // stores: never opened as empty, never a default value
        notAuthorized(() -> ConfigStore.open(other, "alice-config"));
        notAuthorized(() -> FileMetadataStore.open(other, "alice-fs"));

        // election: reading who leads, observing, joining
        LeaderElector intruder = keep(LeaderElector.builder(other, "alice-election").participantId(who).build());
        notAuthorized(intruder::currentLeader);
        notAuthorized(intruder::participants);
        intruder.start();
        notAuthorized(() -> intruder.awaitLeadership(WAIT));
        notAuthorized(intruder::isLeader);
        LeaderObserver observer = keep(LeaderObserver.of(other, "alice-election"));
        notAuthorized(() -> observer.awaitLeader(Optional::isPresent, WAIT));
        notAuthorized(observer::currentLeader);
        notAuthorized(observer::participants);
        notAuthorized(() -> observer.addListener(leader -> { }));

        // locks: taking, and listing the holders
        DistributedLock lock = DistributedLock.of(other, "alice-lock");
        notAuthorized(() -> lock.tryAcquire(WAIT));
        notAuthorized(() -> lock.tryAcquire(Duration.ZERO));
        notAuthorized(lock::holders);
        notAuthorized(() -> DistributedSemaphore.of(other, "alice-sem", 2).tryAcquire(WAIT));
        notAuthorized(() -> DistributedReadWriteLock.of(other, "alice-rw").writeLock().tryAcquire(WAIT));
        notAuthorized(() -> DistributedReadWriteLock.of(other, "alice-rw").readLock().tryAcquire(WAIT));

        // queue: never an empty queue
        TaskQueue<String> queue = TaskQueue.builder(other, "alice-queue", Serializers.utf8()).build();
        notAuthorized(queue::size);
        notAuthorized(() -> queue.poll(WAIT));
        notAuthorized(() -> queue.poll(Duration.ZERO));
        notAuthorized(() -> queue.put("intruder's job"));
        notAuthorized(() -> queue.peek(10));
        notAuthorized(() -> queue.consume(task -> { }, dev.zkrecipes.queue.ConsumeOptions.concurrency(1)));
    }

    @Test
    void aConsumerRefusedWhileItRunsStopsAndSaysWhy(TestInfo info) throws Exception {
        String ns = namespace(info);
        ZkRecipes alice = alice(ns);
        TaskQueue<String> queue = TaskQueue.builder(alice, "alice-refused", Serializers.utf8()).build();
        queue.put("first");
        java.util.concurrent.CountDownLatch handled = new java.util.concurrent.CountDownLatch(1);
        dev.zkrecipes.queue.Subscription sub = keep(queue.consume(task -> handled.countDown(),
                dev.zkrecipes.queue.ConsumeOptions.concurrency(2)));
        assertThat(handled.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(sub.failure()).isEmpty();

        // an operator (alice herself, as the creator) takes read away from the queue's tasks
        alice.curator().setACL().withACL(new ArrayList<>(List.of(new ACL(ZooDefs.Perms.WRITE | ZooDefs.Perms.CREATE
                | ZooDefs.Perms.DELETE | ZooDefs.Perms.ADMIN, ZooDefs.Ids.AUTH_IDS)))).forPath("/zkr/queues/alice-refused/tasks");
        queue.put("second");  // wakes the idle consumers, whose next read is refused
        await().atMost(WAIT).until(() -> !sub.isActive());
        assertThat(sub.failure()).containsInstanceOf(NotAuthorizedException.class);
    }

    // ---- 4. the ACLs set ----

    @Test
    void sharedParentsAreOpenToAllAndRecipeNodesToTheirCreatorOnly(TestInfo info) throws Exception {
        String ns = namespace(info);
        ZkRecipes alice = alice(ns);
        aliceSetsUp(alice);
        CuratorFramework raw = alice.curator();
        ACL worldReadCreate = new ACL(ZooDefs.Perms.READ | ZooDefs.Perms.CREATE, ZooDefs.Ids.ANYONE_ID_UNSAFE);
        Id aliceId = new Id("digest", digest("alice", "pw-a"));
        for (String shared : List.of("/zkr", "/zkr/locks", "/zkr/queues", "/zkr/elections", "/zkr/config", "/zkr/fs")) {
            // nothing more for whoever created it: no delete under it, no ACL change
            assertThat(raw.getACL().forPath(shared)).as(shared).containsExactly(worldReadCreate);
        }
        assertThat(raw.usingNamespace(null).getACL().forPath("/" + ns)).contains(worldReadCreate);
        for (String own : List.of("/zkr/locks/alice-lock", "/zkr/queues/alice-queue", "/zkr/queues/alice-queue/tasks",
                "/zkr/elections/alice-election", "/zkr/config/alice-config", "/zkr/fs/alice-fs", "/zkr/fs/alice-fs/secret")) {
            assertThat(raw.getACL().forPath(own)).as(own).containsExactly(new ACL(ZooDefs.Perms.ALL, aliceId));
        }
        String held = "/zkr/locks/alice-lock/" + raw.getChildren().forPath("/zkr/locks/alice-lock").get(0);
        assertThat(raw.getACL().forPath(held)).containsExactly(new ACL(ZooDefs.Perms.ALL, aliceId));
    }

    // ---- 5. the aclProvider hook ----

    @Test
    void anAclProviderCanLetOperatorsReadButNotChange(TestInfo info) throws Exception {
        String ns = namespace(info);
        // not List.of: ZooKeeper's client asks the list whether it holds null, which List.of refuses with an NPE
        List<ACL> ownerAndOpsReader = new ArrayList<>(List.of(
                new ACL(ZooDefs.Perms.ALL, ZooDefs.Ids.AUTH_IDS),
                new ACL(ZooDefs.Perms.READ, new Id("digest", digest("ops", "pw-o")))));
        ACLProvider provider = new ACLProvider() {
            @Override
            public List<ACL> getDefaultAcl() {
                return ownerAndOpsReader;
            }

            @Override
            public List<ACL> getAclForPath(String path) {
                return ownerAndOpsReader;
            }
        };
        ZkRecipes alice = client(ns, "alice", "pw-a", provider);
        ZkRecipes ops = client(ns, "ops", "pw-o", null);
        ZkRecipes bob = bob(ns);
        try (ConfigStore cfg = ConfigStore.open(alice, "alice-config")) {
            cfg.put("workers", "8");
        }
        String path = "/zkr/config/alice-config";
        // the shared parents keep their fixed ACL whatever the provider says
        assertThat(alice.curator().getACL().forPath("/zkr/config"))
                .contains(new ACL(ZooDefs.Perms.READ | ZooDefs.Perms.CREATE, ZooDefs.Ids.ANYONE_ID_UNSAFE));

        assertThat(new String(ops.curator().getData().forPath(path), StandardCharsets.UTF_8)).contains("workers");
        refused(() -> ops.curator().setData().forPath(path, new byte[0]));
        refused(() -> ops.curator().delete().forPath(path));
        refused(() -> ops.curator().create().forPath(path + "/nested", new byte[0]));
        try (ConfigStore read = ConfigStore.open(ops, "alice-config")) {
            assertThat(read.getInt("workers", 4)).isEqualTo(8);
            notAuthorized(() -> read.put("workers", "1"));
        }
        refused(() -> bob.curator().getData().forPath(path));
        notAuthorized(() -> ConfigStore.open(bob, "alice-config"));
        try (ConfigStore cfg = ConfigStore.open(alice, "alice-config")) {
            assertThat(cfg.getInt("workers", 4)).isEqualTo(8);
        }
    }
}
