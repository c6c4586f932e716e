package dev.kvshare.api;

import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * {@code POST /v1/completions}; {@code prompt} is a string or an array of token ids. Unknown fields are
 * ignored; the OpenAI fields this service does not implement are refused (see {@link ChatCompletionRequest}).
 */
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
        @JsonProperty("cache_salt") String cacheSalt,
        @JsonProperty("prompt_cache_key") String promptCacheKey,
        @JsonProperty("prompt_cache_retention") String promptCacheRetention,
        Integer logprobs,
        @JsonProperty("logit_bias") Map<String, Object> logitBias,
        @JsonProperty("best_of") Integer bestOf,
        String suffix) implements SamplingFields {

    @Override
    public Optional<String> unsupportedParameter() {
        return UnsupportedParameters.first(
                UnsupportedParameters.when("echo", Boolean.TRUE.equals(echo)),
                UnsupportedParameters.when("logprobs", logprobs != null && logprobs != 0),
                UnsupportedParameters.when("logit_bias", logitBias != null && !logitBias.isEmpty()),
                UnsupportedParameters.when("best_of", bestOf != null && bestOf != 1),
                UnsupportedParameters.when("suffix", suffix != null && !suffix.isEmpty()));
    }
}
