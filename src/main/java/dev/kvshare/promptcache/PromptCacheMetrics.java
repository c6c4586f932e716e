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
    private final Counter vllmQueries;
    private final Counter vllmHits;
    private final Counter vllmExternalQueries;
    private final Counter vllmExternalHits;

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
        for (String tier : List.of("local", "redis")) {
            storedCounter(tier);
        }
        for (String operation : List.of("get", "set", "exists")) {
            redisTimer(operation);
        }
        this.vllmQueries = vllmCounter("vllm:prefix_cache_queries", "Prefix cache queries, in terms of number of "
                + "queried tokens");
        this.vllmHits = vllmCounter("vllm:prefix_cache_hits", "Prefix cache hits, in terms of number of cached "
                + "tokens (the local tier)");
        this.vllmExternalQueries = vllmCounter("vllm:external_prefix_cache_queries", "External prefix cache "
                + "queries, in terms of number of queried tokens (the Redis tier)");
        this.vllmExternalHits = vllmCounter("vllm:external_prefix_cache_hits", "External prefix cache hits, in "
                + "terms of number of cached tokens (the Redis tier)");
    }

    /**
     * The prefix-cache token counters under vLLM's names and label ({@code model_name}), so that dashboards and
     * routers that scrape vLLM read this service unchanged: the local tier is vLLM's prefix cache, Redis its
     * external (KV connector) cache. Like vLLM, both count every prompt token of a lookup as queried.
     */
    private Counter vllmCounter(String name, String description) {
        return Counter.builder(name).description(description).tag("model_name", model).register(registry);
    }

    /** A gauge under vLLM's name and label, like the counters above. */
    public void vllmGauge(String name, String description, Supplier<Number> value) {
        Gauge.builder(name, value).description(description).tag("model_name", model).register(registry);
    }

    /**
     * One lookup in token counts.
     *
     * @param redisAsked whether the lookup was for Redis: it is on and the local tier lacked blocks (a lookup
     *                   that fetch-or-compute kept from Redis counts as queried without hits)
     */
    public void looked(int promptTokens, int localTokens, boolean redisAsked, int redisTokens) {
        vllmQueries.increment(promptTokens);
        vllmHits.increment(localTokens);
        if (redisAsked) {
            vllmExternalQueries.increment(promptTokens);
            vllmExternalHits.increment(redisTokens);
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
        redisTimer(operation).record(duration);
    }

    private Timer redisTimer(String operation) {
        return Timer.builder("kvshare.prompt.cache.redis.latency").description("Redis round trips of the prompt cache")
                .tags("model", model, "operation", operation).publishPercentileHistogram().register(registry);
    }

    public void stored(String tier, long bytes) {
        storedCounter(tier).increment(bytes);
    }

    private Counter storedCounter(String tier) {
        return Counter.builder("kvshare.prompt.cache.stored.bytes").description("KV bytes written to a cache tier")
                .baseUnit("bytes").tags("model", model, "tier", tier).register(registry);
    }

    public void gauge(String name, String description, Supplier<Number> value, String... tags) {
        Gauge.builder(name, value).description(description).tag("model", model).tags(tags).register(registry);
    }
}
