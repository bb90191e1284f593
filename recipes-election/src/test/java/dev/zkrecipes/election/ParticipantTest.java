package dev.zkrecipes.election;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zkrecipes.core.FencingToken;
import org.junit.jupiter.api.Test;

class ParticipantTest {

    @Test
    void isAValueWithDefensiveCopiesOfItsData() {
        byte[] data = {1, 2, 3};
        Participant p = new Participant("a", data, FencingToken.of(7));
        data[0] = 9;
        p.data()[1] = 9;

        assertThat(p.data()).containsExactly(1, 2, 3);
        assertThat(p).isEqualTo(new Participant("a", new byte[] {1, 2, 3}, FencingToken.of(7)));
        assertThat(p).hasSameHashCodeAs(new Participant("a", new byte[] {1, 2, 3}, FencingToken.of(7)));
        assertThat(p).isNotEqualTo(new Participant("a", new byte[] {1, 2, 3}, FencingToken.of(8)));
    }
}
