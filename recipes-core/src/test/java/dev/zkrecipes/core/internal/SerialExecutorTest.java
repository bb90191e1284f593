package dev.zkrecipes.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class SerialExecutorTest {

    @Test
    void runsTasksInOrderAndSurvivesAThrowingTask() {
        List<Integer> ran = new CopyOnWriteArrayList<>();
        SerialExecutor executor = new SerialExecutor("test");
        for (int i = 0; i < 100; i++) {
            int n = i;
            executor.execute(() -> {
                if (n == 50) {
                    throw new IllegalStateException("a listener bug");
                }
                ran.add(n);
            });
        }
        executor.shutdown(5000);
        assertThat(ran).hasSize(99).isSorted();
    }

    @Test
    void tasksAfterCloseAreDroppedQuietly() {
        SerialExecutor executor = new SerialExecutor("test");
        executor.close();
        executor.execute(() -> {
            throw new AssertionError("must not run");
        });
        assertThat(executor.inExecutorThread()).isFalse();
    }
}
