package dev.kvshare.generation;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code kvshare.generation.*}: admission and defaults.
 *
 * @param maxConcurrent    sequences generated at once; more wait in the queue
 * @param maxQueued        sequences that may wait; beyond that requests get 429
 * @param retryAfterSeconds the {@code Retry-After} a 429 carries
 * @param defaultMaxTokens generated tokens when a request gives no max_tokens (capped by the context)
 */
@ConfigurationProperties("kvshare.generation")
public record GenerationProperties(
        @DefaultValue("4") int maxConcurrent,
        @DefaultValue("32") int maxQueued,
        @DefaultValue("1") int retryAfterSeconds,
        @DefaultValue("512") int defaultMaxTokens) {

    public GenerationProperties {
        if (maxConcurrent < 1 || maxQueued < 0 || retryAfterSeconds < 0 || defaultMaxTokens < 1) {
            throw new IllegalArgumentException("kvshare.generation: max-concurrent and default-max-tokens must be "
                    + "at least 1, max-queued and retry-after-seconds not negative");
        }
    }
}
