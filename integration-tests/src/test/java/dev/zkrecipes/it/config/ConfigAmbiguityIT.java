package dev.zkrecipes.it.config;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.zkrecipes.config.ConfigChange;
import dev.zkrecipes.config.ConfigListener;
import dev.zkrecipes.config.ConfigStore;
import dev.zkrecipes.config.Versioned;
import dev.zkrecipes.core.CorruptDataException;
import dev.zkrecipes.core.NotAuthorizedException;
import dev.zkrecipes.core.VersionConflictException;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.testing.Clients;
import dev.zkrecipes.testing.EmbeddedZk;
import dev.zkrecipes.testing.LoopbackProxy.LostReply;
import dev.zkrecipes.testing.LoopbackProxy.Opcodes;
import dev.zkrecipes.testing.ProxiedClient;
import dev.zkrecipes.testing.ZkServers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * ConfigStore under the ambiguous outcomes and the hands of an operator, on one real server:
 * <ul>
 *   <li>a write whose reply is lost after the server applied it (the proxy drops the reply and
 *       resets the connection; Curator retries on the same session) ends applied and returns
 *       normally, never as a conflict with itself;
 *   <li>a delete of a key another client put a moment ago, which this store's copy does not show
 *       yet, deletes it;
 *   <li>a node that does not hold a config document is never served or overwritten:
 *       {@link CorruptDataException} at open, to listeners and to writers;
 *   <li>a node this client may not read fails open with {@link NotAuthorizedException}, not as an
 *       empty store;
 *   <li>durations need a unit and may not be negative; a closed store refuses writes at once.
 * </ul>
 * Each lost-reply test also waits for the proxy to confirm it dropped the reply, so none can pass
 * without the fault having happened; the "control" tests show the same checks do fail, or do
 * refuse, when the outcome really is a conflict, a missing key or an unreadable document.
 */
class ConfigAmbiguityIT {

    @RegisterExtension
    static final EmbeddedZk zk = EmbeddedZk.server();

    private static final Duration SESSION = Duration.ofSeconds(4);
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final Duration FAULT = Duration.ofSeconds(5);
    private static final AtomicInteger NAMES = new AtomicInteger();

    private static final String GARBAGE = "not json";

    private final List<AutoCloseable> closeAfter = new ArrayList<>();
    private String name;
    private String path;
    private ZkRecipes operatorZk;

    @BeforeEach
    void setUp(TestInfo info) throws Exception {
        // flat names: the parent is always /zkr/config, made here, so a lost create reply is always
        // the reply to the store's own (applied) create, never to a parent's
        name = "ambiguity-" + info.getTestMethod().orElseThrow().getName() + "-" + NAMES.incrementAndGet();
        path = "/zkr/config/" + name;
        operatorZk = client();
        try {
            operator().create().creatingParentsIfNeeded().forPath("/zkr/config");
        } catch (KeeperException.NodeExistsException fine) {
            // made by an earlier test
        }
    }

    @AfterEach
    void cleanUp() {
        for (int i = closeAfter.size() - 1; i >= 0; i--) {
            ZkServers.closeQuietly(closeAfter.get(i));
        }
    }

    // ---- helpers ----

    /** A client on its own 4 s session, straight to the server, without credentials; closed after the test. */
    private ZkRecipes client() {
        return closing(Clients.connect(zk.connectString(), SESSION));
    }

    /** A client on its own 4 s session behind its own fault proxy; closed after the test. */
    private ProxiedClient proxied() {
        return closing(zk.proxiedClient(SESSION));
    }

    /** Raw Curator of a separate client: what an operator with zkCli would do. */
    private CuratorFramework operator() {
        return operatorZk.curator();
    }

    private ConfigStore open(ZkRecipes client) throws InterruptedException {
        return closing(ConfigStore.open(client, name));
    }

    private <T extends AutoCloseable> T closing(T c) {
        closeAfter.add(c);
        return c;
    }

    /** What the ensemble holds now, through a store opened just now on a client of its own. */
    private ConfigStore freshStore() throws InterruptedException {
        return open(client());
    }

    private byte[] rawData() throws Exception {
        return operator().getData().forPath(path);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(UTF_8);
    }

    /** A listener that records changes and unreadable-document reports. */
    private static final class Recorder implements ConfigListener {
        final List<ConfigChange> changes = new CopyOnWriteArrayList<>();
        final List<CorruptDataException> problems = new CopyOnWriteArrayList<>();

        @Override
        public void changed(ConfigChange change) {
            changes.add(change);
        }

        // No @Override on purpose: this file then compiles against a ConfigListener without the
        // method too (to show which tests fail on the old code); listenerHasTheUnreadableCallback
        // and the test that relies on it pin the exact default method it overrides.
        public void unreadable(CorruptDataException problem) {
            problems.add(problem);
        }
    }

    // ---- 1. lost reply of an applied write ----

    @Test
    void compareAndSetWhoseSetDataReplyIsLostReturnsTheNewValueInsteadOfAConflict() throws Exception {
        ProxiedClient victim = proxied();
        ConfigStore store = open(victim.zk());
        int current = store.put("mode", "old").version();
        LostReply lost = victim.proxy().loseNextReply(Opcodes.SET_DATA);

        Versioned<String> result;
        try {
            result = store.compareAndSet("mode", current, "new");
        } catch (VersionConflictException e) {
            throw new AssertionError("compareAndSet reported a conflict with its own applied write: " + e.getMessage(), e);
        }
        lost.await(FAULT);

        assertThat(result.value()).isEqualTo("new");
        assertThat(result.version()).isGreaterThan(current);
        assertThat(store.get("mode")).contains("new");
        ConfigStore fresh = freshStore();
        assertThat(fresh.get("mode")).as("the ensemble's value").contains("new");
        assertThat(fresh.getVersioned("mode")).as("the returned version is the ensemble's").contains(result);
    }

    @Test
    void putWhoseSetDataReplyIsLostReturnsAndTheEnsembleHoldsTheValue() throws Exception {
        ProxiedClient victim = proxied();
        ConfigStore store = open(victim.zk());
        store.put("mode", "old");
        LostReply lost = victim.proxy().loseNextReply(Opcodes.SET_DATA);

        Versioned<String> result = store.put("mode", "new");
        lost.await(FAULT);

        assertThat(result.value()).isEqualTo("new");
        assertThat(store.get("mode")).contains("new");
        ConfigStore fresh = freshStore();
        assertThat(fresh.get("mode")).as("the ensemble's value").contains("new");
        assertThat(fresh.getVersioned("mode")).as("the returned version is the ensemble's").contains(result);
    }

    @Test
    void putAllWhoseSetDataReplyIsLostReturnsAndTheEnsembleHoldsEveryValue() throws Exception {
        ProxiedClient victim = proxied();
        ConfigStore store = open(victim.zk());
        store.putAll(Map.of("db.host", "h0", "db.port", "p0"));
        LostReply lost = victim.proxy().loseNextReply(Opcodes.SET_DATA);

        Map<String, Versioned<String>> result = store.putAll(Map.of("db.host", "h1", "db.port", "p1"));
        lost.await(FAULT);

        assertThat(result).hasSize(2);
        assertThat(result.get("db.host").value()).isEqualTo("h1");
        assertThat(result.get("db.port").value()).isEqualTo("p1");
        ConfigStore fresh = freshStore();
        assertThat(fresh.get("db.host")).as("the ensemble's value").contains("h1");
        assertThat(fresh.get("db.port")).as("the ensemble's value").contains("p1");
    }

    @Test
    void deleteWhoseSetDataReplyIsLostReturnsTrueAndTheKeyIsGone() throws Exception {
        ProxiedClient victim = proxied();
        ConfigStore store = open(victim.zk());
        store.putAll(Map.of("doomed", "x", "kept", "y"));
        LostReply lost = victim.proxy().loseNextReply(Opcodes.SET_DATA);

        boolean deleted = store.delete("doomed");
        lost.await(FAULT);

        assertThat(deleted).as("delete of a key that was there, whose own write was applied").isTrue();
        assertThat(store.get("doomed")).isEmpty();
        ConfigStore fresh = freshStore();
        assertThat(fresh.get("doomed")).as("the ensemble's value").isEmpty();
        assertThat(fresh.get("kept")).contains("y");
    }

    @Test
    void firstPutOfANewStoreWhoseCreateReplyIsLostReturnsAndTheEnsembleHoldsTheValue() throws Exception {
        ProxiedClient victim = proxied();
        ConfigStore store = open(victim.zk());
        assertThat(operator().checkExists().forPath(path)).as("no node before the first write").isNull();
        LostReply lost = victim.proxy().loseNextReply(Opcodes.CREATES);

        Versioned<String> result = store.put("mode", "new");
        lost.await(FAULT);

        assertThat(result.value()).isEqualTo("new");
        assertThat(store.get("mode")).contains("new");
        ConfigStore fresh = freshStore();
        assertThat(fresh.get("mode")).as("the ensemble's value").contains("new");
        assertThat(fresh.getVersioned("mode")).as("the returned version is the ensemble's").contains(result);
    }

    @Test
    void firstCompareAndSetOfANewStoreWhoseCreateReplyIsLostReturnsInsteadOfAConflict() throws Exception {
        ProxiedClient victim = proxied();
        ConfigStore store = open(victim.zk());
        LostReply lost = victim.proxy().loseNextReply(Opcodes.CREATES);

        Versioned<String> result;
        try {
            result = store.compareAndSet("mode", -1, "new");
        } catch (VersionConflictException e) {
            throw new AssertionError("compareAndSet(-1) reported a conflict with its own applied create: " + e.getMessage(), e);
        }
        lost.await(FAULT);

        assertThat(result.value()).isEqualTo("new");
        ConfigStore fresh = freshStore();
        assertThat(fresh.get("mode")).as("the ensemble's value").contains("new");
        assertThat(fresh.getVersioned("mode")).as("the returned version is the ensemble's").contains(result);
    }

    /**
     * Control: a lost reply to a setData that the server refused (another client changed the key
     * first) must still be a conflict; recognising one's own write must not accept someone else's.
     */
    @Test
    void compareAndSetWhoseLostReplyWasARefusalStillConflictsAndWritesNothing() throws Exception {
        ProxiedClient victim = proxied();
        ConfigStore store = open(victim.zk());
        ConfigStore other = open(client());
        int current = store.put("mode", "old").version();
        await().atMost(WAIT).until(() -> other.get("mode").isPresent());
        LostReply lost = victim.proxy().loseNextReply(Opcodes.SET_DATA);
        // hold the victim's setData in the proxy until the other client has changed the key
        victim.proxy().stallRequestsFrom(Opcodes.SET_DATA);
        CompletableFuture<Versioned<String>> cas = CompletableFuture.supplyAsync(() -> store.compareAndSet("mode", current, "mine"));
        assertThat(victim.proxy().awaitStalledRequest(FAULT)).as("the victim's setData reached the proxy").isTrue();
        other.put("mode", "theirs");
        victim.proxy().releaseRequests();

        Throwable outcome = catchThrowable(() -> cas.get(WAIT.toSeconds(), TimeUnit.SECONDS));
        lost.await(FAULT);

        assertThat(outcome).as("a real conflict behind a lost reply").hasCauseInstanceOf(VersionConflictException.class);
        assertThat(freshStore().get("mode")).as("the ensemble's value").contains("theirs");
    }

    // ---- 2. delete past a lagging local copy ----

    @Test
    void deleteOfAKeyAnotherClientJustPutDeletesItEveryTime() throws Exception {
        ConfigStore a = open(client());
        ConfigStore b = open(client());
        int rounds = 30;
        int notYetSeen = 0;
        List<String> returnedFalse = new ArrayList<>();
        for (int i = 0; i < rounds; i++) {
            String key = "k" + i;
            b.put(key, "v" + i);
            if (a.get(key).isEmpty()) {
                notYetSeen++;
            }
            if (!a.delete(key)) {
                returnedFalse.add(key);
            }
        }

        ConfigStore fresh = freshStore();
        List<String> stillThere = new ArrayList<>();
        for (int i = 0; i < rounds; i++) {
            if (fresh.get("k" + i).isPresent()) {
                stillThere.add("k" + i);
            }
        }
        assertThat(notYetSeen).as("rounds in which A's copy had not yet seen B's put (the condition under test)")
                .isPositive();
        assertThat(returnedFalse).as("keys whose delete returned false (A's copy lagged in %d of %d rounds)",
                notYetSeen, rounds).isEmpty();
        assertThat(stillThere).as("keys still on the ensemble after A deleted them").isEmpty();
    }

    /** Control: a delete of a key that is on no copy and not on the ensemble returns false and writes nothing. */
    @Test
    void deleteOfAKeyThatIsNowhereReturnsFalseAndWritesNothing() throws Exception {
        ConfigStore a = open(client());
        a.put("present", "x");
        Stat before = operator().checkExists().forPath(path);

        assertThat(a.delete("absent")).isFalse();

        assertThat(operator().checkExists().forPath(path).getVersion()).as("the node's data version")
                .isEqualTo(before.getVersion());
    }

    // ---- 3a. unreadable document before open ----

    @ParameterizedTest
    @ValueSource(strings = {
        GARBAGE,
        "{\"format\":1,\"entries\":{\"a\":{\"value\":{\"x\":1},\"version\":1}}}",
        "{\"format\":1,\"entries\":[1,2]}",
        "{\"format\":99,\"entries\":{}}"})
    void openOfANodeHoldingNoConfigDocumentThrowsCorruptDataNamingThePath(String document) throws Exception {
        operator().create().creatingParentsIfNeeded().forPath(path, bytes(document));
        ZkRecipes reader = client();

        Throwable thrown = catchThrowable(() -> {
            ConfigStore s = ConfigStore.open(reader, name);
            Map<String, Versioned<String>> served = s.snapshot();
            s.close();
            throw new AssertionError("open succeeded and served " + served + " from " + document);
        });

        assertThat(thrown).isInstanceOf(CorruptDataException.class).hasMessageContaining(path);
        assertThat(rawData()).as("the node is left as it was").isEqualTo(bytes(document));
    }

    /** Control: the same operator write of a valid document opens and is served. */
    @Test
    void openOfANodeAnOperatorWroteAValidDocumentIntoServesIt() throws Exception {
        operator().create().creatingParentsIfNeeded()
                .forPath(path, bytes("{\"format\":1,\"entries\":{\"a\":{\"value\":\"1\",\"version\":0}}}"));

        ConfigStore store = open(client());

        assertThat(store.get("a")).contains("1");
    }

    // ---- 3b. unreadable document under an open store ----

    @Test
    void listenerHasTheUnreadableCallback() {
        assertThatCode(() -> assertThat(ConfigListener.class.getMethod("unreadable", CorruptDataException.class)
                .isDefault()).isTrue()).doesNotThrowAnyException();
    }

    @Test
    void garbageWrittenUnderAnOpenStoreKeepsTheLastCopyTellsListenersRefusesPutAndIsNeverOverwritten() throws Exception {
        listenerHasTheUnreadableCallback();
        ConfigStore store = open(client());
        store.put("a", "1");
        Recorder heard = new Recorder();
        store.addListener(heard);

        operator().setData().forPath(path, bytes(GARBAGE));

        await().atMost(WAIT).until(() -> !heard.problems.isEmpty());
        assertThat(heard.problems.get(0)).hasMessageContaining(path);
        assertThat(store.get("a")).as("the last good copy is still served").contains("1");
        assertThat(heard.changes).as("no change is made up from garbage").isEmpty();
        assertThatThrownBy(() -> store.put("b", "2")).isInstanceOf(CorruptDataException.class);
        assertThat(store.get("a")).contains("1");
        assertThat(store.get("b")).isEmpty();
        assertThat(rawData()).as("the ensemble still holds the operator's bytes").isEqualTo(bytes(GARBAGE));

        // the operator repairs by deleting the node: the store writes again
        operator().delete().forPath(path);
        await().atMost(WAIT).ignoreException(CorruptDataException.class).untilAsserted(() -> store.put("b", "2"));
        assertThat(store.get("b")).contains("2");
        assertThat(freshStore().get("b")).as("the ensemble's value").contains("2");
    }

    @Test
    void everyKindOfWriteIsRefusedWhileTheNodeIsUnreadableAndNoneOverwritesIt() throws Exception {
        ConfigStore store = open(client());
        int v = store.put("a", "1").version();
        operator().setData().forPath(path, bytes(GARBAGE));

        assertThatThrownBy(() -> store.putAll(Map.of("b", "2", "c", "3"))).isInstanceOf(CorruptDataException.class);
        assertThatThrownBy(() -> store.compareAndSet("a", v, "2")).isInstanceOf(CorruptDataException.class);
        assertThatThrownBy(() -> store.delete("a")).isInstanceOf(CorruptDataException.class);
        assertThatThrownBy(() -> store.put("a", "2")).isInstanceOf(CorruptDataException.class);

        assertThat(rawData()).as("the ensemble still holds the operator's bytes").isEqualTo(bytes(GARBAGE));
        assertThat(store.get("a")).contains("1");
    }

    @Test
    void afterTheOperatorWritesAValidDocumentBackTheStoreServesItAndWritesAgain() throws Exception {
        ConfigStore store = open(client());
        store.put("a", "1");
        operator().setData().forPath(path, bytes(GARBAGE));
        assertThatThrownBy(() -> store.put("b", "2")).isInstanceOf(CorruptDataException.class);

        operator().setData().forPath(path, bytes("{\"format\":1,\"entries\":{\"a\":{\"value\":\"3\",\"version\":5}}}"));

        await().atMost(WAIT).until(() -> store.get("a").orElse("").equals("3"));
        await().atMost(WAIT).ignoreException(CorruptDataException.class).untilAsserted(() -> store.put("b", "2"));
        ConfigStore fresh = freshStore();
        assertThat(fresh.get("a")).contains("3");
        assertThat(fresh.get("b")).contains("2");
    }

    // ---- 4. not authorized ----

    @Test
    void openOfANodeThisClientMayNotReadThrowsNotAuthorizedAndTheOwnerOpensIt() throws Exception {
        List<ACL> ownerOnly = List.of(new ACL(ZooDefs.Perms.ALL,
                new Id("digest", DigestAuthenticationProvider.generateDigest("owner:pw"))));
        operator().create().creatingParentsIfNeeded().withACL(ownerOnly, false)
                .forPath(path, bytes("{\"format\":1,\"entries\":{\"k\":{\"value\":\"v\",\"version\":0}}}"));
        ZkRecipes stranger = client();

        Throwable thrown = catchThrowable(() -> {
            ConfigStore s = ConfigStore.open(stranger, name);
            Map<String, Versioned<String>> served = s.snapshot();
            s.close();
            throw new AssertionError("open without rights succeeded and served " + served);
        });
        assertThat(thrown).isInstanceOf(NotAuthorizedException.class).hasMessageContaining(path);

        ZkRecipes owner = closing(ZkRecipes.builder().connectString(zk.connectString()).digestAuth("owner", "pw")
                .sessionTimeout(SESSION).retryPolicy(new RetryNTimes(20, 100)).build());
        owner.start();
        assertThat(owner.awaitConnected(WAIT)).isTrue();
        ConfigStore store = open(owner);
        assertThat(store.get("k")).contains("v");
        store.put("k2", "w");
        assertThat(store.get("k2")).contains("w");
    }

    // ---- 5. durations ----

    @Test
    void durationsNeedAUnitAreNeverNegativeAndMayHaveFractions() throws Exception {
        ConfigStore store = open(client());
        store.putAll(Map.of("neg", "-5s", "bare", "10", "frac", "1.5s", "ms", "250ms", "iso", "PT1M", "hours", "2h"));

        // every case is checked and reported, not only the first that fails
        SoftAssertions.assertSoftly(soft -> {
            soft.assertThat(catchThrowable(() -> store.getDuration("neg", Duration.ZERO))).as("-5s")
                    .isInstanceOf(IllegalArgumentException.class);
            soft.assertThat(catchThrowable(() -> store.getDuration("bare", Duration.ZERO))).as("10 (no unit)")
                    .isInstanceOf(IllegalArgumentException.class);
            soft.assertThatCode(() -> assertThat(store.getDuration("frac", Duration.ZERO)).isEqualTo(Duration.ofMillis(1500)))
                    .as("1.5s").doesNotThrowAnyException();
            soft.assertThat(store.getDuration("ms", Duration.ZERO)).as("250ms").isEqualTo(Duration.ofMillis(250));
            soft.assertThat(store.getDuration("iso", Duration.ZERO)).as("PT1M").isEqualTo(Duration.ofMinutes(1));
            soft.assertThat(store.getDuration("hours", Duration.ZERO)).as("2h").isEqualTo(Duration.ofHours(2));
        });
    }

    // ---- 6. after close ----

    @Test
    void writesToAClosedStoreThrowIllegalStateAtOnceEvenWithTheEnsembleUnreachable() throws Exception {
        ProxiedClient victim = proxied();
        ConfigStore store = open(victim.zk());
        int v = store.put("a", "1").version();
        store.close();
        // nothing answers now: a write that went to the network first would hang, not throw at once
        victim.proxy().blackhole();
        try {
            Duration atOnce = Duration.ofSeconds(1);
            assertTimeoutPreemptively(atOnce, () -> assertThatThrownBy(() -> store.put("a", "2"))
                    .isInstanceOf(IllegalStateException.class), "put");
            assertTimeoutPreemptively(atOnce, () -> assertThatThrownBy(() -> store.compareAndSet("a", v, "2"))
                    .isInstanceOf(IllegalStateException.class), "compareAndSet");
            assertTimeoutPreemptively(atOnce, () -> assertThatThrownBy(() -> store.delete("a"))
                    .isInstanceOf(IllegalStateException.class), "delete");
            assertTimeoutPreemptively(atOnce, () -> assertThatThrownBy(() -> store.putAll(Map.of("b", "2")))
                    .isInstanceOf(IllegalStateException.class), "putAll");
        } finally {
            victim.proxy().heal();
        }
        assertThat(freshStore().get("a")).as("nothing was written after close").contains("1");
    }
}
