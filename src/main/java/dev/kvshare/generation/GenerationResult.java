package dev.kvshare.generation;

import java.time.Duration;

/**
 * A finished sequence.
 *
 * @param tokenIds     the generated ids, including an end-of-sequence token or one that completed a stop string
 * @param cachedTokens prompt tokens whose KV was restored rather than computed
 * @param timeToFirstToken from the request's arrival to its first token's logits
 */
public record GenerationResult(String text, int[] tokenIds, FinishReason finishReason, int promptTokens,
                               int cachedTokens, Duration timeToFirstToken) {

    public int completionTokens() {
        return tokenIds.length;
    }
}
