package dev.zkrecipes.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RecipePathsTest {

    @Test
    void validNamesMapToTheLayoutUnderZkr() {
        assertThat(RecipePaths.election("scheduler")).isEqualTo("/zkr/elections/scheduler");
        assertThat(RecipePaths.lock("orders/42")).isEqualTo("/zkr/locks/orders/42");
        assertThat(RecipePaths.queue("q")).isEqualTo("/zkr/queues/q");
        assertThat(RecipePaths.config("billing")).isEqualTo("/zkr/config/billing");
        assertThat(RecipePaths.fs("warehouse")).isEqualTo("/zkr/fs/warehouse");
        assertThat(RecipePaths.validateName("ünïcode-ok_1.2")).isEqualTo("ünïcode-ok_1.2");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "/lead", "trail/", "a//b", ".", "..", "a/../b", "a/./b", "tab\there", "nul\u0000", "del\u007f", "zookeeper"})
    void invalidNamesAreRejectedWithTheNameQuoted(String bad) {
        assertThatThrownBy(() -> RecipePaths.validateName(bad))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("recipe name");
    }

    @Test
    void messageSaysWhatIsWrong() {
        assertThatThrownBy(() -> RecipePaths.validateName("a//b")).hasMessageContaining("'a//b'").hasMessageContaining("empty segment");
        assertThatThrownBy(() -> RecipePaths.validateName("a/..")).hasMessageContaining("'..'");
        assertThatThrownBy(() -> RecipePaths.validateName("x".repeat(RecipePaths.MAX_NAME_LENGTH + 1))).hasMessageContaining("over the limit");
        assertThatThrownBy(() -> RecipePaths.validateName(null)).isInstanceOf(NullPointerException.class).hasMessageContaining("name");
    }
}
