package dev.kvshare.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.kvshare.generation.GenerationResult;

/** OpenAI {@code usage}; {@code cached_tokens} counts prompt tokens restored from the prompt cache. */
public record Usage(
        @JsonProperty("prompt_tokens") int promptTokens,
        @JsonProperty("completion_tokens") int completionTokens,
        @JsonProperty("total_tokens") int totalTokens,
        @JsonProperty("prompt_tokens_details") PromptTokensDetails promptTokensDetails) {

    public record PromptTokensDetails(@JsonProperty("cached_tokens") int cachedTokens) {
    }

    static Usage of(GenerationResult result) {
        return new Usage(result.promptTokens(), result.completionTokens(),
                result.promptTokens() + result.completionTokens(),
                new PromptTokensDetails(result.cachedTokens()));
    }
}
