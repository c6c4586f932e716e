package dev.kvshare.ops;

import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;

import static org.assertj.core.api.Assertions.assertThat;

class GenerationHealthIndicatorTest {

    @Test
    void aStoppedSchedulerTakesLivenessDownAndSaysWhy() {
        Health health = GenerationHealthIndicator.health(true, Optional.of(new IllegalStateException("repack bug")));
        assertThat(health.getStatus()).isEqualTo(Status.DOWN);
        assertThat(health.getDetails().get("error").toString()).contains("batch scheduler stopped", "repack bug");
    }

    @Test
    void aRunningServiceIsUp() {
        Health health = GenerationHealthIndicator.health(false, Optional.empty());
        assertThat(health.getStatus()).isEqualTo(Status.UP);
        assertThat(health.getDetails()).containsEntry("batching", false);
    }
}
