package dev.kvshare.api;

import com.fasterxml.jackson.annotation.JsonProperty;

/** {@code POST /v1/completions}; {@code prompt} is a string or an array of token ids. */
public record CompletionRequest(
        String model,
        Object prompt,
        @JsonProperty("max_tokens") Integer maxTokens,
        Integer n,
        Double temperature,
        @JsonProperty("top_p") Double topP,
        @JsonProperty("top_k") Integer topK,
        Long seed,
        @JsonProperty("presence_penalty") Double presencePenalty,
        @JsonProperty("frequency_penalty") Double frequencyPenalty,
        Object stop,
        Boolean echo,
        @JsonProperty("ignore_eos") Boolean ignoreEos,
        Boolean stream,
        @JsonProperty("stream_options") StreamOptions streamOptions,
        @JsonProperty("return_token_ids") Boolean returnTokenIds,
        @JsonProperty("cache_salt") String cacheSalt) implements SamplingFields {
}
