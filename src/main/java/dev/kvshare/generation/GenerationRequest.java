package dev.kvshare.generation;

import java.util.List;
import java.util.function.Supplier;

import dev.kvshare.constrain.TokenConstraint;

/**
 * One sequence to generate.
 *
 * @param promptIds the prompt's token ids
 * @param maxTokens at most this many tokens are generated
 * @param stop      strings that end generation; not part of the output
 * @param ignoreEos keep generating past end-of-sequence tokens (for benchmarks)
 * @param cacheSalt which prompt-cache entries this request may share (see CacheNamespace)
 * @param constraint makes the sequence's constraint (structured output), {@link TokenConstraint#NONE} if free
 */
public record GenerationRequest(int[] promptIds, int maxTokens, SamplingParams sampling, List<String> stop,
                                boolean ignoreEos, String cacheSalt, Supplier<TokenConstraint> constraint) {

    public GenerationRequest(int[] promptIds, int maxTokens, SamplingParams sampling, List<String> stop,
                             boolean ignoreEos, String cacheSalt) {
        this(promptIds, maxTokens, sampling, stop, ignoreEos, cacheSalt, () -> TokenConstraint.NONE);
    }

    public GenerationRequest {
        if (promptIds.length == 0) {
            throw new IllegalArgumentException("The prompt must have at least one token");
        }
        if (maxTokens < 1) {
            throw new IllegalArgumentException("maxTokens must be at least 1");
        }
        stop = List.copyOf(stop);
    }
}
