package dev.kvshare.ops;

import dev.kvshare.model.ServedModel;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * The {@code model} health component: the service only starts once its model has loaded, so this reports
 * what is loaded and where it runs, for operators checking a rollout.
 */
@Component("model")
public class ModelHealthIndicator implements HealthIndicator {

    private final ServedModel model;

    public ModelHealthIndicator(ServedModel model) {
        this.model = model;
    }

    @Override
    public Health health() {
        var kv = model.decoder().io().kv();
        return Health.up()
                .withDetail("name", model.name())
                .withDetail("executionProvider", model.executionProvider())
                .withDetail("kvLayout", kv.layout().name())
                .withDetail("layers", kv.layers())
                .withDetail("kvBytesPerToken", kv.bytesPerToken())
                .withDetail("contextLength", model.config().contextLength())
                .build();
    }
}
