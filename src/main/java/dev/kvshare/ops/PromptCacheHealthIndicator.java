package dev.kvshare.ops;

import dev.kvshare.promptcache.CircuitBreaker;
import dev.kvshare.promptcache.PromptCache;
import dev.kvshare.promptcache.RedisTier;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;

/**
 * The {@code promptCache} health component. Redis unreachable, or kept out by the circuit breaker, is
 * {@code DEGRADED} — never DOWN, and not part of readiness: without Redis the service still answers, it
 * only computes prefixes it could have fetched. Registered with the prompt cache (bean
 * {@code promptCacheHealthIndicator}, component {@code promptCache}).
 */
public class PromptCacheHealthIndicator implements HealthIndicator {

    public static final Status DEGRADED = new Status("DEGRADED", "Redis is unreachable: prefixes are computed");

    private final PromptCache cache;
    private final String frameProtection;

    /** @param frameProtection how Redis frames are protected (shown as {@code frames: encrypted|signed|unsigned}) */
    public PromptCacheHealthIndicator(PromptCache cache, String frameProtection) {
        this.cache = cache;
        this.frameProtection = frameProtection;
    }

    @Override
    public Health health() {
        var local = cache.localStats();
        Health.Builder health = Health.up()
                .withDetail("blockSize", cache.blockSize())
                .withDetail("localEntries", local.entries())
                .withDetail("localBytes", local.bytes());
        if (cache.redisTier().isEmpty()) {
            return health.withDetail("redis", "disabled").build();
        }
        RedisTier redis = cache.redisTier().get();
        CircuitBreaker.State circuit = redis.circuitState();
        boolean reachable = redis.ping();
        health.withDetail("redis", reachable ? "reachable" : "unreachable").withDetail("circuit", circuit.name())
                .withDetail("frames", frameProtection)
                .withDetail("fetchGate", cache.fetchGate().describe());
        return (reachable && circuit != CircuitBreaker.State.OPEN ? health : health.status(DEGRADED)).build();
    }
}
