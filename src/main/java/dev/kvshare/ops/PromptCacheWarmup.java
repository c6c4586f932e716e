package dev.kvshare.ops;

import java.util.Arrays;

import dev.kvshare.generation.InvalidPromptException;
import dev.kvshare.generation.PromptBuilder;
import dev.kvshare.generation.WarmupPrefill;
import dev.kvshare.promptcache.CacheNamespace;
import dev.kvshare.promptcache.PromptCache;
import dev.kvshare.promptcache.PromptCacheProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.stereotype.Component;

/**
 * Prefills the public prefixes ({@code kvshare.prompt-cache.public-prefixes}) and the prompts of
 * {@code kvshare.prompt-cache.warmup} at start-up, before the instance reports ready, so the first real request of every replica hits. With Redis, the first replica computes and the
 * others restore.
 */
@Component
public class PromptCacheWarmup implements ApplicationRunner {

    private static final Logger log = LoggerFactory.getLogger(PromptCacheWarmup.class);

    private final PromptBuilder prompts;
    private final WarmupPrefill prefill;
    private final PromptCacheProperties properties;
    private final ObjectProvider<PromptCache> promptCache;

    public PromptCacheWarmup(PromptBuilder prompts, WarmupPrefill prefill, PromptCacheProperties properties,
                             ObjectProvider<PromptCache> promptCache) {
        this.prompts = prompts;
        this.prefill = prefill;
        this.properties = properties;
        this.promptCache = promptCache;
    }

    @Override
    public void run(ApplicationArguments args) {
        if (promptCache.getIfAvailable() == null) {
            return;
        }
        for (PromptCacheProperties.PublicPrefix prefix : properties.publicPrefixes()) {
            Result result = warm(prefix.asWarmup());
            log.info("Warmed a public prefix: {} prompt tokens, {} already cached", result.tokens(),
                    result.cachedTokens());
        }
        for (PromptCacheProperties.Warmup prompt : properties.warmup()) {
            Result result = warm(prompt);
            log.info("Warmed the prompt cache: {} prompt tokens, {} already cached", result.tokens(),
                    result.cachedTokens());
        }
    }

    /** What one warm-up did. */
    public record Result(int tokens, int cachedTokens) {
    }

    /** Prefills one prompt: a system prompt as the model's chat template renders it, or raw text. */
    public Result warm(PromptCacheProperties.Warmup prompt) {
        Prefix prefix = prefix(prompt);
        int[] ids = prefix.ids();
        // A lookup never covers a prompt's last token; real requests go on after the prefix, so one
        // placeholder token after it lets every full block of the prefix be stored (earlier KV never
        // depends on later tokens).
        int[] prefixAndOneMore = Arrays.copyOf(ids, ids.length + 1);
        int cached = prefill.prefill(prefixAndOneMore, prefix.salt());
        return new Result(ids.length, cached);
    }

    /** Where the blocks of a prompt's prefix are now, changing nothing (the admin endpoint). */
    public PromptCache.Residency residency(PromptCacheProperties.Warmup prompt) {
        Prefix prefix = prefix(prompt);
        return promptCache.getObject().residency(prefix.ids(), prefix.salt());
    }

    /** The tokens every request with this system prompt (or text) starts with, and their cache salt. */
    private record Prefix(int[] ids, String salt) {
    }

    private Prefix prefix(PromptCacheProperties.Warmup prompt) {
        int[] ids;
        if (prompt.system() != null && !prompt.system().isBlank()) {
            ids = prompts.systemPrefix(prompt.system());
        } else if (prompt.text() != null && !prompt.text().isBlank()) {
            ids = prompts.text(prompt.text(), true);
        } else {
            throw new InvalidPromptException("A warm-up prompt needs a system prompt or a text");
        }
        String tenant = prompt.tenant() == null ? CacheNamespace.ANONYMOUS : prompt.tenant();
        return new Prefix(ids, CacheNamespace.salt(tenant, prompt.cacheSalt()));
    }
}
