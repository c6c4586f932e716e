package dev.kvshare.promptcache;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/** The prompt cache's meters; tags are bounded (model, tier, result, reason, operation). */
public class PromptCacheMetrics {

    private final MeterRegistry registry;
    private final String model;

    public PromptCacheMetrics(MeterRegistry registry, String model) {
        this.registry = registry;
        this.model = model;
        // Every series a dashboard or alert divides by exists from start-up, at zero.
        for (String result : List.of("hit", "miss")) {
            lookupCounter("local", result);
        }
        for (String result : List.of("hit", "miss", "skipped", "error")) {
            lookupCounter("redis", result);
        }
        for (RejectReason reason : RejectReason.values()) {
            rejectCounter(reason);
        }
    }

    /** One lookup's outcome in one tier: {@code hit}, {@code miss}, {@code skipped} or {@code error}. */
    public void lookup(String tier, String result) {
        lookupCounter(tier, result).increment();
    }

    private Counter lookupCounter(String tier, String result) {
        return Counter.builder("kvshare.prompt.cache.lookups").description("Prompt-cache lookups by tier and result")
                .tags("model", model, "tier", tier, "result", result).register(registry);
    }

    public void rejected(RejectReason reason) {
        rejectCounter(reason).increment();
    }

    private Counter rejectCounter(RejectReason reason) {
        return Counter.builder("kvshare.prompt.cache.rejects").description("Cache frames refused, by reason")
                .tags("model", model, "reason", reason.name().toLowerCase(Locale.ROOT)).register(registry);
    }

    public void redisCall(String operation, Duration duration) {
        Timer.builder("kvshare.prompt.cache.redis.latency").description("Redis round trips of the prompt cache")
                .tags("model", model, "operation", operation).publishPercentileHistogram().register(registry)
                .record(duration);
    }

    public void stored(String tier, long bytes) {
        Counter.builder("kvshare.prompt.cache.stored.bytes").description("KV bytes written to a cache tier")
                .baseUnit("bytes").tags("model", model, "tier", tier).register(registry).increment(bytes);
    }

    public void gauge(String name, String description, Supplier<Number> value, String... tags) {
        Gauge.builder(name, value).description(description).tag("model", model).tags(tags).register(registry);
    }
}
