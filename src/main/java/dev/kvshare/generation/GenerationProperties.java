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
 * @param maxBatchSize     running sequences advanced together by one batched decode pass; 1 runs each
 *                         sequence's passes on its own (and so does an export that cannot batch rows of
 *                         different lengths). At most {@code maxConcurrent} sequences run, so a batch never
 *                         holds more.
 * @param prefillTokensPerStep the most prompt tokens the batch scheduler prefills between two decode passes:
 *                         all of it while no stream runs; while streams run, as many as take at most 0.75 of
 *                         their own cycle ({@code PrefillPacing}; more while more prompts wait than streams
 *                         run), up to this many
 */
@ConfigurationProperties("kvshare.generation")
public record GenerationProperties(
        @DefaultValue("4") int maxConcurrent,
        @DefaultValue("32") int maxQueued,
        @DefaultValue("1") int retryAfterSeconds,
        @DefaultValue("512") int defaultMaxTokens,
        @DefaultValue("4") int maxBatchSize,
        @DefaultValue("256") int prefillTokensPerStep) {

    public GenerationProperties {
        if (maxConcurrent < 1 || maxQueued < 0 || retryAfterSeconds < 0 || defaultMaxTokens < 1 || maxBatchSize < 1
                || prefillTokensPerStep < 1) {
            throw new IllegalArgumentException("kvshare.generation: max-concurrent, default-max-tokens, "
                    + "max-batch-size and prefill-tokens-per-step must be at least 1, max-queued and "
                    + "retry-after-seconds not negative");
        }
    }
}
