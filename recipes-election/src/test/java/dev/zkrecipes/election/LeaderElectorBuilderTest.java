package dev.zkrecipes.election;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.zkrecipes.core.PayloadTooLargeException;
import dev.zkrecipes.core.ZkRecipes;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Validation happens in the builder, before any connection exists. */
class LeaderElectorBuilderTest {

    private final ZkRecipes notStarted = ZkRecipes.builder().connectString("127.0.0.1:1").build();

    @AfterEach
    void close() {
        notStarted.close();
    }

    @Test
    void rejectsBadNamesNullsAndRepeatedOptions() {
        assertThatThrownBy(() -> LeaderElector.builder(notStarted, "a//b")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'a//b'");
        assertThatThrownBy(() -> LeaderElector.builder(null, "x")).isInstanceOf(NullPointerException.class).hasMessageContaining("zk");
        assertThatThrownBy(() -> LeaderElector.builder(notStarted, "x").data(null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("data");
        assertThatThrownBy(() -> LeaderElector.builder(notStarted, "x").participantId("a").participantId("b"))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("participantId was already set");
    }

    @Test
    void rejectsDataOverTheLimitAtBuild() {
        LeaderElector.Builder b = LeaderElector.builder(notStarted, "x").data(new byte[notStarted.maxPayloadBytes()]);
        assertThatThrownBy(b::build).isInstanceOf(PayloadTooLargeException.class).hasMessageContaining("election 'x'");
    }

    @Test
    void defaultParticipantIdNamesHostAndProcess() {
        LeaderElector e = LeaderElector.builder(notStarted, "x").build();
        assertThat(e.participantId()).contains(":" + ProcessHandle.current().pid() + ":");
    }

    @Test
    void startingOnAClientThatIsNotStartedFailsClearly() {
        LeaderElector e = LeaderElector.builder(notStarted, "x").build();
        assertThatThrownBy(e::start).isInstanceOf(IllegalStateException.class).hasMessageContaining("start()");
        assertThatThrownBy(() -> e.awaitLeadership(Duration.ofMillis(1))).isInstanceOf(IllegalStateException.class);
        e.close();
    }
}
