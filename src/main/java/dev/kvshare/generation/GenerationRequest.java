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
 * @param operation what the client asked for, as traces name it
 */
public record GenerationRequest(int[] promptIds, int maxTokens, SamplingParams sampling, List<String> stop,
                                boolean ignoreEos, String cacheSalt, Supplier<TokenConstraint> constraint,
                                Operation operation) {

    /** The OpenTelemetry GenAI operation ({@code gen_ai.operation.name}) a sequence serves. */
    public enum Operation {
        CHAT("chat"), TEXT_COMPLETION("text_completion");

        private final String semanticName;

        Operation(String semanticName) {
            this.semanticName = semanticName;
        }

        public String semanticName() {
            return semanticName;
        }
    }

    /** A free text completion of a raw prompt. */
    public GenerationRequest(int[] promptIds, int maxTokens, SamplingParams sampling, List<String> stop,
                             boolean ignoreEos, String cacheSalt) {
        this(promptIds, maxTokens, sampling, stop, ignoreEos, cacheSalt, () -> TokenConstraint.NONE,
                Operation.TEXT_COMPLETION);
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
