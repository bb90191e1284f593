package dev.zkrecipes.core.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class NodePayloadTest {

    @Test
    void idAndDataRoundTrip() {
        NodePayload p = NodePayload.decode(NodePayload.encode("node-1", "10.0.0.5:8080".getBytes(UTF_8)), "fallback");
        assertThat(p.id()).isEqualTo("node-1");
        assertThat(new String(p.data(), UTF_8)).isEqualTo("10.0.0.5:8080");
    }

    @Test
    void foreignDataDecodesAsFallbackIdAndRawBytes() {
        NodePayload p = NodePayload.decode("127.0.0.1".getBytes(UTF_8), "_c_123-n_0000000001");
        assertThat(p.id()).isEqualTo("_c_123-n_0000000001");
        assertThat(new String(p.data(), UTF_8)).isEqualTo("127.0.0.1");
        assertThat(NodePayload.decode(null, "x").data()).isEmpty();
    }

    @Test
    void emptyOrOversizedIdIsRejected() {
        assertThatThrownBy(() -> NodePayload.encode("", new byte[0])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> NodePayload.encode("x".repeat(NodePayload.MAX_ID_BYTES + 1), new byte[0]))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
