package dev.kvshare.ops;

import java.util.Optional;

import dev.kvshare.generation.GenerationService;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * The {@code generation} health component, part of liveness: DOWN once the batch scheduler has stopped on an
 * unexpected error, since every request would then fail while the pod looked healthy; a restart is the cure.
 */
@Component("generation")
public class GenerationHealthIndicator implements HealthIndicator {

    private final GenerationService generation;

    public GenerationHealthIndicator(GenerationService generation) {
        this.generation = generation;
    }

    @Override
    public Health health() {
        return health(generation.batching(), generation.engineFailure());
    }

    static Health health(boolean batching, Optional<Throwable> failure) {
        Health.Builder health = failure.isPresent()
                ? Health.down().withDetail("error", "The batch scheduler stopped: " + failure.get())
                : Health.up();
        return health.withDetail("batching", batching).build();
    }
}
