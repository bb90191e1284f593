package dev.zkrecipes.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zkrecipes.lock.DistributedLock;
import dev.zkrecipes.lock.LockHandle;
import dev.zkrecipes.testing.EmbeddedZk;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The real commands, run in-process against a real server. */
class ZkrTest {

    @RegisterExtension
    static final EmbeddedZk server = EmbeddedZk.withClients(1);

    /** Exit code, stdout and stderr of one run. */
    record Run(int code, String out, String err) {
    }

    private static Run zkr(String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "--connect";
        all[1] = server.connectString();
        System.arraycopy(args, 0, all, 2, args.length);
        return raw(all);
    }

    private static Run raw(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Zkr.execute(new PrintWriter(out), new PrintWriter(err), args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void electJoinsAndLeaderReportsItThenNobodyAfterItLeaves() throws Exception {
        CompletableFuture<Run> elect = CompletableFuture.supplyAsync(() -> zkr("elect", "cli-election", "--id", "node-a",
                "--data", "10.0.0.5:8080", "--for", "3s"));
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
                .until(() -> zkr("leader", "cli-election").code() == 0);
        Run leader = zkr("leader", "cli-election");
        assertThat(leader.out()).contains("leader: node-a").contains("10.0.0.5:8080").contains("token");

        Run joined = elect.get(20, TimeUnit.SECONDS);
        assertThat(joined.code()).isZero();
        assertThat(joined.out()).contains("node-a leads election 'cli-election' with token");
        assertThat(zkr("leader", "cli-election").code()).isEqualTo(Zkr.FAILED);
    }

    @Test
    void lockRunsTheCommandAndPassesItsExitCodeThrough() throws Exception {
        assertThat(zkr("lock", "cli-lock", "--", "true").code()).isZero();
        assertThat(zkr("lock", "cli-lock", "--", "false").code()).isEqualTo(1);
        assertThat(zkr("lock", "cli-lock", "--", "sh", "-c", "exit 3").code()).isEqualTo(3);
        assertThat(zkr("lock", "cli-lock", "--", "sh", "-c", "test -n \"$ZKR_FENCING_TOKEN\"").code()).isZero();
    }

    @Test
    void lockTimesOutWithCode4WhileAnotherClientHoldsIt() throws Exception {
        try (LockHandle held = DistributedLock.of(server.client(0), "cli-busy").acquire()) {
            Run timedOut = zkr("lock", "cli-busy", "--timeout", "200ms", "--", "true");
            assertThat(timedOut.code()).isEqualTo(Zkr.TIMEOUT);
            assertThat(timedOut.err()).contains("not free within 200ms");
            assertThat(zkr("locks", "cli-busy").out()).contains("holder:");
        }
    }

    @Test
    void queuePutSizeTakeInOrder() {
        assertThat(zkr("queue", "put", "cli-q", "first", "second").out().lines().count()).isEqualTo(2);
        assertThat(zkr("queue", "size", "cli-q").out().strip()).isEqualTo("2");
        assertThat(zkr("queue", "take", "cli-q").out().strip()).isEqualTo("first");
        assertThat(zkr("queue", "take", "cli-q").out().strip()).isEqualTo("second");
        assertThat(zkr("queue", "take", "cli-q", "--timeout", "200ms").code()).isEqualTo(Zkr.NOT_FOUND);
        assertThat(zkr("queue", "dead", "cli-q").code()).isZero();
    }

    @Test
    void configSetGetList() {
        assertThat(zkr("config", "set", "cli-cfg", "timeout=30s", "workers=4").code()).isZero();
        assertThat(zkr("config", "get", "cli-cfg", "timeout").out().strip()).isEqualTo("30s");
        assertThat(zkr("config", "list", "cli-cfg").out()).contains("workers = 4");
        Run missing = zkr("config", "get", "cli-cfg", "nope");
        assertThat(missing.code()).isEqualTo(Zkr.NOT_FOUND);
        assertThat(missing.err()).contains("no key 'nope'");
    }

    @Test
    void fsPutStatLsMvRm() {
        assertThat(zkr("fs", "put", "cli-fs", "/raw/a.parquet", "--size", "1024", "--checksum", "sha256:00").code()).isZero();
        assertThat(zkr("fs", "stat", "cli-fs", "/raw/a.parquet").out()).contains("size=1024");
        assertThat(zkr("fs", "ls", "cli-fs", "/raw").out().strip()).isEqualTo("a.parquet");
        assertThat(zkr("fs", "mv", "cli-fs", "/raw", "/archive").code()).isZero();
        assertThat(zkr("fs", "stat", "cli-fs", "/raw/a.parquet").code()).isEqualTo(Zkr.NOT_FOUND);
        assertThat(zkr("fs", "put", "cli-fs", "/archive/a.parquet").code()).isEqualTo(Zkr.CONFLICT);
        assertThat(zkr("fs", "rm", "cli-fs", "/archive").code()).isEqualTo(Zkr.CONFLICT);
        assertThat(zkr("fs", "rm", "cli-fs", "-r", "/archive").code()).isZero();
    }

    @Test
    void noServerReachableIsExit3WithOneLineAndNoStackTrace() {
        long t0 = System.nanoTime();
        Run run = raw("--connect", "127.0.0.1:1", "leader", "x");
        assertThat(run.code()).isEqualTo(Zkr.UNREACHABLE);
        assertThat(run.err().strip()).startsWith("zkr: no ZooKeeper server reachable at 127.0.0.1:1").doesNotContain("\tat ");
        assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0)).isLessThan(15);
    }

    @Test
    void aBadNameFailsAtOnceEvenWithNoServerReachable() {
        long t0 = System.nanoTime();
        Run run = raw("--connect", "127.0.0.1:1", "leader", "a//b");
        assertThat(run.code()).isEqualTo(Zkr.USAGE);
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(2000);
    }

    @Test
    void badNamesAreUsageErrorsAndVerboseShowsTheStackTrace() {
        Run bad = zkr("leader", "a//b");
        assertThat(bad.code()).isEqualTo(Zkr.USAGE);
        assertThat(bad.err().strip()).startsWith("zkr: recipe name 'a//b'").doesNotContain("\tat ");
        assertThat(raw("--connect", server.connectString(), "--verbose", "leader", "a//b").err()).contains("\tat ");
        assertThat(raw("--no-such-option").code()).isEqualTo(Zkr.USAGE);
        assertThat(raw("--help").out()).contains("Exit codes:").contains("3  no ZooKeeper server reachable");
    }

    @Test
    void demoRunsToTheEndOnItsOwnEnsemble() {
        Run demo = raw("demo");
        assertThat(demo.code()).isZero();
        assertThat(demo.out()).contains("no flap").contains("hand-off to node-2 took").contains("redelivered after A's crash")
                .contains("node-3 reads db.host=10.0.0.7 db.port=5433").contains("done.");
    }

    @Test
    void quickBenchOfOneScenarioOnAGivenEnsemblePrintsFiguresWritesJsonAndLeavesNothing(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("bench.json");
        java.util.List<String> before = server.client(0).curator().getChildren().forPath("/");
        Run bench = raw("bench", "--quick", "--json", json.toString(), "--connect", server.connectString(), "lock");
        assertThat(bench.code()).as(bench.err()).isZero();
        // the run worked under a namespace of its own, removed afterwards
        assertThat(server.client(0).curator().getChildren().forPath("/")).containsExactlyInAnyOrderElementsOf(before);
        assertThat(bench.err()).contains("[1/1] lock");
        assertThat(Files.readString(json)).contains("\"lock\"").contains("Curator InterProcessMutex");
        com.fasterxml.jackson.databind.JsonNode results = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.toFile());
        assertThat(results.get("machine").get("cores").asInt()).isPositive();
        assertThat(results.get("ensemble").asText()).isEqualTo(server.connectString());
        com.fasterxml.jackson.databind.JsonNode first = results.get("figures").get(0);
        assertThat(first.get("scenario").asText()).isEqualTo("lock");
        assertThat(first.get("figure").asText()).isNotEmpty();
        assertThat(first.get("subject").asText()).isNotEmpty();
        assertThat(first.get("unit").asText()).isIn("ms", "ops/s");
        assertThat(first.has("p50") || first.has("rate")).isTrue();
    }

    @Test
    void credentialsComeFromTheEnvironmentOrAFileAndARefusedLockIsExit7(@TempDir Path dir) throws Exception {
        dev.zkrecipes.core.ZkRecipes alice = dev.zkrecipes.core.ZkRecipes.builder().connectString(server.connectString())
                .digestAuth("alice", "pw-a").build();
        alice.start();
        try (alice) {
            assertThat(alice.awaitConnected(java.time.Duration.ofSeconds(10))).isTrue();
            DistributedLock.of(alice, "cli-alices").acquire().close();

            // bob's password from the environment, never from argv
            java.util.Map<String, String> env = java.util.Map.of("ZKR_PASSWORD", "pw-b");
            Zkr.environment = env::get;
            Run refused = zkr("--auth", "bob", "lock", "cli-alices", "--", "true");
            assertThat(refused.code()).as(refused.err()).isEqualTo(Zkr.NOT_AUTHORIZED);
            assertThat(refused.err()).doesNotContain("pw-b").doesNotContain("\tat ");

            // joining alice's election is refused too, loudly: never "joined"
            DistributedLock.of(alice, "cli-alices").acquire().close();
            try (dev.zkrecipes.election.LeaderElector e = dev.zkrecipes.election.LeaderElector.builder(alice, "cli-alices-election")
                    .participantId("alice").build()) {
                e.start();
                e.awaitLeadership(java.time.Duration.ofSeconds(10)).orElseThrow();
                Run elect = zkr("--auth", "bob", "elect", "cli-alices-election", "--id", "bob", "--for", "1s");
                assertThat(elect.code()).as(elect.err()).isEqualTo(Zkr.NOT_AUTHORIZED);
                assertThat(elect.out()).doesNotContain("joined");
            }

            // and from a file: alice may take her own lock
            Path file = dir.resolve("alice.auth");
            Files.writeString(file, "alice:pw-a\n");
            assertThat(zkr("--auth-file", file.toString(), "lock", "cli-alices", "--", "true").code()).isZero();

            // --auth USER without a password anywhere is a usage error that says where to put it
            Zkr.environment = name -> null;
            Run noPassword = zkr("--auth", "bob", "leader", "x");
            assertThat(noPassword.code()).isEqualTo(Zkr.USAGE);
            assertThat(noPassword.err()).contains("ZKR_PASSWORD");
        } finally {
            Zkr.environment = System::getenv;
        }
    }

    @Test
    void saslSendsTheCredentialsToAnEnsembleThatRequiresItAndARefusedLoginIsExit7(@TempDir Path dir) {
        try (dev.zkrecipes.testing.SaslZkServer sasl = dev.zkrecipes.testing.SaslZkServer.start(dir,
                java.util.Map.of("alice", "pw-a"))) {
            Zkr.environment = java.util.Map.of("ZKR_PASSWORD", "pw-a")::get;
            Run taken = raw("--connect", sasl.connectString(), "--auth", "alice", "--sasl", "lock", "cli-sasl", "--", "true");
            assertThat(taken.code()).as(taken.err()).isZero();

            Zkr.environment = java.util.Map.of("ZKR_PASSWORD", "wrong-pw")::get;
            Run refused = raw("--connect", sasl.connectString(), "--auth", "alice", "--sasl", "lock", "cli-sasl", "--", "true");
            assertThat(refused.code()).as(refused.err()).isEqualTo(Zkr.NOT_AUTHORIZED);
            assertThat(refused.err()).contains("SASL").doesNotContain("wrong-pw").doesNotContain("\tat ");

            // the digest scheme is no SASL login: refused too, never a lock taken or an empty answer
            Zkr.environment = java.util.Map.of("ZKR_PASSWORD", "pw-a")::get;
            Run digest = raw("--connect", sasl.connectString(), "--auth", "alice", "locks", "cli-sasl");
            assertThat(digest.code()).as(digest.err()).isEqualTo(Zkr.NOT_AUTHORIZED);

            Run both = raw("--connect", sasl.connectString(), "--auth", "alice", "--sasl-jaas-section", "Client", "locks", "x");
            assertThat(both.code()).isEqualTo(Zkr.USAGE);
        } finally {
            Zkr.environment = System::getenv;
        }
    }

    @Test
    void lockChecksTheProgramBeforeTakingTheLock(@TempDir Path dir) throws Exception {
        Run missing = zkr("lock", "cli-check", "--", dir.resolve("nonexistent").toString());
        assertThat(missing.code()).isEqualTo(Zkr.COMMAND_NOT_FOUND);
        assertThat(zkr("lock", "cli-check", "--", "no-such-program-zkr").code()).isEqualTo(Zkr.COMMAND_NOT_FOUND);
        Path plain = Files.writeString(dir.resolve("plain.sh"), "echo hi\n");
        assertThat(zkr("lock", "cli-check", "--", plain.toString()).code()).isEqualTo(Zkr.COMMAND_NOT_EXECUTABLE);
        // nothing was created: the lock was never taken
        assertThat(server.client(0).curator().checkExists().forPath("/zkr/locks/cli-check")).isNull();
    }

    @Test
    void aLockLostWhileTheCommandRunsStopsTheCommandAndExits8(@TempDir Path dir) throws Exception {
        Path marker = dir.resolve("stopped");
        Path script = Files.writeString(dir.resolve("hold.sh"),
                "#!/bin/sh\ntrap 'echo term > " + marker + "; exit 0' TERM\nwhile true; do sleep 0.1; done\n");
        script.toFile().setExecutable(true);
        CompletableFuture<Run> holding = CompletableFuture.supplyAsync(() -> zkr("lock", "cli-lost", "--grace", "5s", "--", script.toString()));
        org.apache.curator.framework.CuratorFramework operator = server.client(0).curator();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
                .until(() -> operator.checkExists().forPath("/zkr/locks/cli-lost") != null
                        && !operator.getChildren().forPath("/zkr/locks/cli-lost").isEmpty());
        // an operator deletes the holder's node: the lock is lost while the command runs
        for (String child : operator.getChildren().forPath("/zkr/locks/cli-lost")) {
            operator.delete().forPath("/zkr/locks/cli-lost/" + child);
        }
        Run run = holding.get(20, TimeUnit.SECONDS);
        assertThat(run.code()).as(run.err()).isEqualTo(Zkr.LOCK_LOST);
        assertThat(run.err()).contains("was lost while the command ran");
        assertThat(marker).exists();
    }

    @Test
    void sigtermIsPassedToTheCommandAndTheLockIsReleasedAtOnce(@TempDir Path dir) throws Exception {
        Path marker = dir.resolve("got-term");
        Path started = dir.resolve("started");
        Path script = Files.writeString(dir.resolve("hold.sh"), "#!/bin/sh\ntrap 'echo term > " + marker
                + "; exit 3' TERM\ntouch " + started + "\nwhile true; do sleep 0.1; done\n");
        script.toFile().setExecutable(true);
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process zkr = new ProcessBuilder(javaBin, "-cp", System.getProperty("java.class.path"), Zkr.class.getName(),
                "--connect", server.connectString(), "--session-timeout", "30s", "lock", "cli-term", "--", script.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("zkr.log").toFile()).start();
        try {
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> Files.exists(started));
            zkr.destroy(); // SIGTERM to zkr only, as a service manager would send it
            assertThat(zkr.waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(zkr.exitValue()).isEqualTo(143);
            assertThat(marker).as(Files.readString(dir.resolve("zkr.log"))).exists();
            // released before zkr exited: another holder gets it now, not after the 30 s session
            try (LockHandle next = DistributedLock.of(server.client(0), "cli-term").tryAcquire(java.time.Duration.ofSeconds(2))
                    .orElseThrow(() -> new AssertionError("the lock was still held after zkr exited"))) {
                assertThat(next.isValid()).isTrue();
            }
        } finally {
            zkr.destroyForcibly();
        }
    }

    @Test
    void helpWorksOnEverySubcommandAndNoCommandIsAUsageError() {
        assertThat(raw("queue", "--help").code()).isZero();
        assertThat(raw("queue", "put", "--help").out()).contains("Usage: zkr queue put");
        assertThat(raw("help", "lock").out()).contains("--on-loss");
        Run none = raw();
        assertThat(none.code()).isEqualTo(Zkr.USAGE);
        assertThat(raw("completion", "bash").out()).contains("complete -F");
    }

    @Test
    void aBadConnectStringIsOneLineAtOnce() {
        long t0 = System.nanoTime();
        Run badPort = raw("--connect", "127.0.0.1:port", "leader", "x");
        assertThat(badPort.code()).isEqualTo(Zkr.USAGE);
        assertThat(badPort.err()).contains("port 'port'").hasLineCount(1);
        Run unresolved = raw("--connect", "no-such-host.invalid:2181", "leader", "x");
        assertThat(unresolved.code()).isEqualTo(Zkr.UNREACHABLE);
        assertThat(unresolved.err()).contains("does not resolve").hasLineCount(1);
        assertThat(java.time.Duration.ofNanos(System.nanoTime() - t0)).isLessThan(java.time.Duration.ofSeconds(4));
    }

    @Test
    void configCompareAndSetDeleteAndDeleteStore() {
        assertThat(zkr("config", "set", "cli-cas", "mode=a").code()).isZero();
        assertThat(zkr("config", "set", "cli-cas", "mode=b", "--expect-version", "7").code()).isEqualTo(Zkr.CONFLICT);
        assertThat(zkr("config", "set", "cli-cas", "mode=b", "--expect-version", "0").code()).isZero();
        assertThat(zkr("config", "get", "cli-cas", "mode").out().strip()).isEqualTo("b");
        assertThat(zkr("config", "delete", "cli-cas", "mode").code()).isZero();
        assertThat(zkr("config", "delete", "cli-cas", "mode").code()).isEqualTo(Zkr.NOT_FOUND);
        assertThat(zkr("config", "delete-store", "cli-cas").code()).isZero();
        assertThat(zkr("config", "delete-store", "cli-cas").code()).isEqualTo(Zkr.NOT_FOUND);
    }

    @Test
    void lsFindsQueuesLocksAndStoresWithTheirSizes() throws Exception {
        zkr("queue", "put", "cli-ls/jobs", "a", "b", "c");
        zkr("config", "set", "cli-ls-cfg", "k=v");
        try (LockHandle held = DistributedLock.of(server.client(0), "cli-ls-lock").acquire()) {
            Run ls = zkr("ls");
            assertThat(ls.out()).contains("queues  cli-ls/jobs  3").contains("locks  cli-ls-lock  1").contains("config  cli-ls-cfg");
            com.fasterxml.jackson.databind.JsonNode json = new com.fasterxml.jackson.databind.ObjectMapper()
                    .readTree(zkr("ls", "--json").out());
            assertThat(json.get("queues").toString()).contains("\"name\":\"cli-ls/jobs\",\"size\":3");
        }
    }

    @Test
    void removingANonEmptyDirectoryIsAConflict() {
        assertThat(zkr("fs", "put", "cli-fs-rm", "/d/a.txt", "--size", "1").code()).isZero();
        assertThat(zkr("fs", "rm", "cli-fs-rm", "/d").code()).isEqualTo(Zkr.CONFLICT);
    }

    @Test
    void readCommandsSpeakJsonAndWatchesStartWithWhatIsThere() throws Exception {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        Run noLeader = zkr("leader", "cli-json-election", "--json");
        assertThat(noLeader.code()).isEqualTo(Zkr.FAILED);
        assertThat(json.readTree(noLeader.out()).get("leader").isNull()).isTrue();

        zkr("queue", "put", "cli-json-q", "a", "b");
        assertThat(json.readTree(zkr("queue", "size", "cli-json-q", "--json").out()).get("size").asInt()).isEqualTo(2);
        assertThat(json.readTree(zkr("queue", "claims", "cli-json-q", "--json").out()).isArray()).isTrue();

        zkr("config", "set", "cli-json-cfg", "mode=fast");
        assertThat(json.readTree(zkr("config", "get", "cli-json-cfg", "mode", "--json").out()).get("value").asText()).isEqualTo("fast");
        assertThat(json.readTree(zkr("config", "list", "cli-json-cfg", "--json").out()).get("mode").get("version").asInt()).isZero();
        assertThat(zkr("config", "watch", "cli-json-cfg", "--for", "300ms").out()).contains("mode = fast");

        assertThat(zkr("fs", "mkdir", "cli-json-fs", "/a/b").code()).isZero();
        assertThat(zkr("fs", "put", "cli-json-fs", "/a/b/f.txt", "--size", "7").code()).isZero();
        assertThat(zkr("fs", "mv", "cli-json-fs", "-p", "/a/b/f.txt", "/x/y/f.txt").code()).isZero();
        com.fasterxml.jackson.databind.JsonNode stat = json.readTree(zkr("fs", "stat", "cli-json-fs", "/x/y/f.txt", "--json").out());
        assertThat(stat.get("size").asLong()).isEqualTo(7);
        assertThat(stat.get("type").asText()).isEqualTo("file");
        assertThat(zkr("fs", "stat", "cli-json-fs", "/x/y/f.txt").out()).contains("type=file").doesNotContain("FileMetadata[");
        assertThat(zkr("fs", "delete-store", "cli-json-fs").code()).isZero();
        assertThat(zkr("fs", "delete-store", "cli-json-fs").code()).isEqualTo(Zkr.NOT_FOUND);
    }

    @Test
    void aZkrLockPausedPastItsSessionStopsItsCommandWhenItRunsAgain(@TempDir Path dir) throws Exception {
        Path started = dir.resolve("started");
        Path stopped = dir.resolve("stopped");
        Path script = Files.writeString(dir.resolve("hold.sh"), "#!/bin/sh\ntrap 'echo term > " + stopped
                + "; exit 0' TERM\ntouch " + started + "\nwhile true; do sleep 0.1; done\n");
        script.toFile().setExecutable(true);
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process zkr = new ProcessBuilder(javaBin, "-cp", System.getProperty("java.class.path"), Zkr.class.getName(),
                "--connect", server.connectString(), "--session-timeout", "3s", "lock", "cli-paused", "--grace", "2s", "--",
                script.toString()).redirectErrorStream(true).redirectOutput(dir.resolve("zkr.log").toFile()).start();
        try {
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> Files.exists(started));
            signal("STOP", zkr.pid());
            // the ensemble expires the paused holder's session; a second holder takes the lock
            try (LockHandle next = DistributedLock.of(server.client(0), "cli-paused").tryAcquire(java.time.Duration.ofSeconds(20))
                    .orElseThrow(() -> new AssertionError("the paused holder's session never expired"))) {
                signal("CONT", zkr.pid());
                // the first zkr learns it lost the lock and stops its command rather than run beside us
                assertThat(zkr.waitFor(30, TimeUnit.SECONDS)).as(Files.readString(dir.resolve("zkr.log"))).isTrue();
                assertThat(zkr.exitValue()).as(Files.readString(dir.resolve("zkr.log"))).isEqualTo(Zkr.LOCK_LOST);
                assertThat(stopped).exists();
                assertThat(next.isValid()).isTrue();
            }
        } finally {
            signal("CONT", zkr.pid());
            zkr.destroyForcibly();
        }
    }

    private static void signal(String name, long pid) throws Exception {
        new ProcessBuilder("kill", "-" + name, Long.toString(pid)).start().waitFor(5, TimeUnit.SECONDS);
    }

    @Test
    void locksWatchPrintsEveryChangeWithItsTime() throws Exception {
        CompletableFuture<Run> watching = CompletableFuture.supplyAsync(() -> zkr("locks", "cli-watch", "--watch", "--for", "3s"));
        org.awaitility.Awaitility.await().pollDelay(java.time.Duration.ofMillis(800)).atMost(java.time.Duration.ofSeconds(5))
                .until(() -> true);
        try (LockHandle held = DistributedLock.of(server.client(0), "cli-watch").acquire()) {
            // held long enough for the watcher to read the line while it is taken
            org.awaitility.Awaitility.await().pollDelay(java.time.Duration.ofMillis(500)).atMost(java.time.Duration.ofSeconds(5))
                    .until(held::isValid);
        }
        Run run = watching.get(20, TimeUnit.SECONDS);
        assertThat(run.code()).isZero();
        assertThat(run.out()).contains("holder:").contains("is free");
        assertThat(run.out().lines().filter(l -> l.contains("is free")).count()).isGreaterThanOrEqualTo(2);
    }

    @Test
    void sigtermMakesZkrElectLeaveAtOnce(@TempDir Path dir) throws Exception {
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path log = dir.resolve("elect.log");
        Process zkr = new ProcessBuilder(javaBin, "-cp", System.getProperty("java.class.path"), Zkr.class.getName(),
                "--connect", server.connectString(), "--session-timeout", "30s", "elect", "cli-term-elect", "--id", "a")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                    .until(() -> Files.readString(log).contains("a leads"));
            zkr.destroy(); // SIGTERM
            assertThat(zkr.waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(zkr.exitValue()).isEqualTo(143);
            // the participant left: its node is gone now, not when the 30 s session times out
            assertThat(server.client(0).curator().getChildren().forPath("/zkr/elections/cli-term-elect")).isEmpty();
            assertThat(Files.readString(log)).contains("no longer leads");
        } finally {
            zkr.destroyForcibly();
        }
    }
}
