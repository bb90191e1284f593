package dev.zkrecipes.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class SequentialNodesTest {

    @Test
    void sortsBySequenceSuffixIgnoringTheProtectionPrefix() {
        List<String> children = List.of("_c_ffff-n_0000000003", "_c_0000-n_0000000010", "_c_aaaa-n_0000000001", "not-sequential");
        assertThat(SequentialNodes.sorted(children))
                .containsExactly("_c_aaaa-n_0000000001", "_c_ffff-n_0000000003", "_c_0000-n_0000000010");
    }

    @Test
    void sequenceOfANameWithoutSuffixIsMinusOne() {
        assertThat(SequentialNodes.sequence("n_0000000042")).isEqualTo(42);
        assertThat(SequentialNodes.sequence("short")).isEqualTo(-1);
        assertThat(SequentialNodes.sequence("abcdefghijk")).isEqualTo(-1);
        assertThat(SequentialNodes.nodeName("/zkr/elections/x/n_0000000001")).isEqualTo("n_0000000001");
    }
}
