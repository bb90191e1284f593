package dev.zkrecipes.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class LifecycleTest {

    @Test
    void startsOnceClosesIdempotentlyAndRefusesUseAfterClose() {
        Lifecycle l = new Lifecycle("Thing");
        assertThatThrownBy(l::checkStarted).isInstanceOf(IllegalStateException.class).hasMessageContaining("not started");
        l.start();
        assertThatThrownBy(l::start).isInstanceOf(IllegalStateException.class).hasMessageContaining("more than once");
        l.checkStarted();
        assertThat(l.close()).isTrue();
        assertThat(l.close()).isFalse();
        assertThatThrownBy(l::checkStarted).isInstanceOf(IllegalStateException.class).hasMessageContaining("Thing is closed");
    }
}
