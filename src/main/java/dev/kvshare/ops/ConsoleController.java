package dev.kvshare.ops;

import java.util.List;

import dev.kvshare.generation.ChatLimits;
import dev.kvshare.model.ChatTurn;
import dev.kvshare.promptcache.CacheNamespace;
import dev.kvshare.promptcache.LocalKvStore;
import dev.kvshare.promptcache.PromptCache;
import dev.kvshare.promptcache.PromptCacheProperties;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.http.HttpHeaders;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;

/**
 * The console's view of the prompt cache: the local tier, the Redis tier's state, and where the blocks of the
 * console's system prompt are — for the caller's own tenant only (its bearer token), so the console tells
 * nobody about another tenant's prefixes. Off with the console.
 */
@RestController
@ConditionalOnProperty(name = "kvshare.console.enabled", havingValue = "true", matchIfMissing = true)
class ConsoleController {

    /** @param system the console's system prompt; blank: the tiers only */
    record StateRequest(String system) {
    }

    /**
     * @param enabled   whether the service has a prompt cache
     * @param residency where the system prompt's blocks are; null without a system prompt
     */
    record State(boolean enabled, LocalKvStore.Stats local, String redis, PromptCache.Residency residency) {
    }

    private final ObjectProvider<PromptCache> promptCache;
    private final PromptCacheWarmup warmup;
    private final CacheNamespace namespace;
    private final ChatLimits limits;

    ConsoleController(ObjectProvider<PromptCache> promptCache, PromptCacheWarmup warmup, CacheNamespace namespace,
                      ChatLimits limits) {
        this.promptCache = promptCache;
        this.warmup = warmup;
        this.namespace = namespace;
        this.limits = limits;
    }

    @PostMapping(ConsoleConfiguration.PATH + "prompt-cache")
    State state(@RequestHeader(value = HttpHeaders.AUTHORIZATION, required = false) String authorization,
                @RequestBody StateRequest request) {
        PromptCache cache = promptCache.getIfAvailable();
        if (cache == null) {
            return new State(false, null, "DISABLED", null);
        }
        PromptCache.Residency residency = null;
        if (request.system() != null && !request.system().isBlank()) {
            limits.checkChat(List.of(new ChatTurn("system", request.system())));
            residency = warmup.residency(new PromptCacheProperties.Warmup(request.system(), null,
                    namespace.tenantFor(authorization), null));
        }
        String redis = cache.redisTier().map(tier -> tier.circuitState().name()).orElse("DISABLED");
        return new State(true, cache.localStats(), redis, residency);
    }
}
