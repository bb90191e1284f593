package dev.zkrecipes.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class FencingTokenTest {

    @Test
    void ordersByCzxid() {
        assertThat(FencingToken.of(5)).isLessThan(FencingToken.of(7));
        assertThat(FencingToken.of(7).isNewerThan(FencingToken.of(5))).isTrue();
        assertThat(FencingToken.of(5).isNewerThan(FencingToken.of(5))).isFalse();
        assertThat(FencingToken.of(0x1_0000_0001L).value()).isEqualTo(0x1_0000_0001L);
        assertThat(FencingToken.of(42)).hasToString("42");
    }

    @Test
    void nonPositiveTokenIsRejected() {
        assertThatThrownBy(() -> FencingToken.of(0)).isInstanceOf(IllegalArgumentException.class);
    }
}
