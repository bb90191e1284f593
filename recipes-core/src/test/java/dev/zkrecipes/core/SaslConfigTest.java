package dev.zkrecipes.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SaslConfigTest {

    @Test
    void theDigestPasswordIsNeverPrintedAndStaysTheCallersOwn() {
        SaslConfig sasl = SaslConfig.digest("orders", "s3cret-pw");

        assertThat(sasl.toString()).contains("orders").doesNotContain("s3cret-pw");
        assertThat(sasl.user()).contains("orders");
        assertThat(sasl.jaasSectionName()).isEmpty();
        char[] copy = sasl.password();
        java.util.Arrays.fill(copy, 'x');
        assertThat(sasl.password()).containsExactly("s3cret-pw".toCharArray());
    }

    @Test
    void aJaasSectionAndAServiceName() {
        SaslConfig sasl = SaslConfig.jaasSection("ZkClient").withServiceName("zk");

        assertThat(sasl.jaasSectionName()).contains("ZkClient");
        assertThat(sasl.serviceName()).contains("zk");
        assertThat(sasl.user()).isEmpty();
        assertThat(sasl.toString()).contains("ZkClient").contains("zk");
    }

    @Test
    void blankNamesAreRefusedBeforeAnythingIsSent() {
        assertThatThrownBy(() -> SaslConfig.digest(" ", "pw")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SaslConfig.jaasSection("")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SaslConfig.digest("a", "pw").withServiceName(" ")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ZkRecipes.builder().connectString("127.0.0.1:1").sasl(SaslConfig.jaasSection("NoSuchZkrSection"))
                .build()).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("NoSuchZkrSection");
    }

    @Test
    void saslIsSetOnce() {
        ZkRecipes.Builder b = ZkRecipes.builder().sasl(SaslConfig.digest("a", "pw"));
        assertThatThrownBy(() -> b.sasl(SaslConfig.digest("b", "pw"))).isInstanceOf(IllegalStateException.class);
    }
}
