package dev.kvshare.ops;

import java.util.LinkedHashMap;
import java.util.Map;

import dev.kvshare.promptcache.PromptCache;
import dev.kvshare.promptcache.PromptCacheProperties;
import org.springframework.boot.actuate.endpoint.annotation.DeleteOperation;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.InvalidEndpointRequestException;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.lang.Nullable;
import org.springframework.stereotype.Component;

/**
 * The prompt-cache admin endpoint, {@code /actuator/promptcache}: inspect (GET), warm a prompt (POST), report
 * where a prompt's blocks are ({@code POST /actuator/promptcache/residency}) and evict the local tier (DELETE). An actuator endpoint, so it is off the public API path and exposed only
 * where configured — on the management port, which the Helm chart keeps out of the Service.
 */
@Component
@Endpoint(id = "promptcache")
@ConditionalOnProperty(name = "kvshare.prompt-cache.enabled", havingValue = "true", matchIfMissing = true)
class PromptCacheEndpoint {

    private final PromptCache cache;
    private final PromptCacheWarmup warmup;

    PromptCacheEndpoint(PromptCache cache, PromptCacheWarmup warmup) {
        this.cache = cache;
        this.warmup = warmup;
    }

    @ReadOperation
    Map<String, Object> inspect() {
        var local = cache.localStats();
        long lookups = local.hits() + local.misses();
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("blockSize", cache.blockSize());
        view.put("localEntries", local.entries());
        view.put("localBytes", local.bytes());
        view.put("localHits", local.hits());
        view.put("localMisses", local.misses());
        view.put("localHitRatio", lookups == 0 ? 0.0 : (double) local.hits() / lookups);
        view.put("localEvictions", local.evictions());
        view.put("redis", cache.redisTier().map(redis -> redis.circuitState().name()).orElse("DISABLED"));
        return view;
    }

    @WriteOperation
    PromptCacheWarmup.Result warm(@Nullable String system, @Nullable String text, @Nullable String tenant,
                                  @Nullable String cacheSalt) {
        return warmup.warm(new PromptCacheProperties.Warmup(system, text, tenant, cacheSalt));
    }

    /**
     * For a system prompt (or text), as a tenant would send it: how many of its tokens are cacheable (its full
     * blocks) and how many leading blocks the local tier and Redis hold. Reads only: nothing is warmed.
     */
    @WriteOperation
    PromptCache.Residency residency(@Selector String report, @Nullable String system, @Nullable String text,
                                    @Nullable String tenant, @Nullable String cacheSalt) {
        if (!"residency".equals(report)) {
            throw new InvalidEndpointRequestException("Unknown operation " + report, "Unknown operation");
        }
        return warmup.residency(new PromptCacheProperties.Warmup(system, text, tenant, cacheSalt));
    }

    @DeleteOperation
    Map<String, Object> evict() {
        long entries = cache.localStats().entries();
        cache.evictLocal();
        return Map.of("evictedLocalEntries", entries);
    }
}
