package dev.kvshare.generation;

/**
 * A finished sequence.
 *
 * @param tokenIds     the generated ids, including an end-of-sequence token or one that completed a stop string
 * @param cachedTokens prompt tokens whose KV was restored rather than computed
 */
public record GenerationResult(String text, int[] tokenIds, FinishReason finishReason, int promptTokens,
                               int cachedTokens) {

    public int completionTokens() {
        return tokenIds.length;
    }
}
