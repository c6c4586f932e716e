package dev.kvshare.api;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * {@code POST /v1/chat/completions}. Unknown fields are ignored, as OpenAI clients send metadata this service
 * has no use for ({@code user}, {@code store}, ...); the OpenAI fields it does not implement are declared so
 * that a request relying on one is refused rather than silently answered differently (docs/api.md).
 */
public record ChatCompletionRequest(
        String model,
        List<Message> messages,
        @JsonProperty("max_tokens") Integer maxTokens,
        @JsonProperty("max_completion_tokens") Integer maxCompletionTokens,
        Integer n,
        Double temperature,
        @JsonProperty("top_p") Double topP,
        @JsonProperty("top_k") Integer topK,
        Long seed,
        @JsonProperty("presence_penalty") Double presencePenalty,
        @JsonProperty("frequency_penalty") Double frequencyPenalty,
        Object stop,
        @JsonProperty("ignore_eos") Boolean ignoreEos,
        Boolean stream,
        @JsonProperty("stream_options") StreamOptions streamOptions,
        @JsonProperty("return_token_ids") Boolean returnTokenIds,
        @JsonProperty("cache_salt") String cacheSalt,
        @JsonProperty("prompt_cache_key") String promptCacheKey,
        @JsonProperty("prompt_cache_retention") String promptCacheRetention,
        Boolean logprobs,
        @JsonProperty("top_logprobs") Integer topLogprobs,
        @JsonProperty("logit_bias") Map<String, Object> logitBias,
        List<Tool> tools,
        @JsonProperty("tool_choice") Object toolChoice,
        @JsonProperty("parallel_tool_calls") Boolean parallelToolCalls,
        Object functions,
        @JsonProperty("function_call") Object functionCall,
        @JsonProperty("response_format") ResponseFormat responseFormat,
        Object audio,
        Object prediction) implements SamplingFields {

    @Override
    public Optional<String> unsupportedParameter() {
        return UnsupportedParameters.first(
                UnsupportedParameters.when("logprobs", Boolean.TRUE.equals(logprobs)),
                UnsupportedParameters.when("top_logprobs", topLogprobs != null && topLogprobs != 0),
                UnsupportedParameters.when("logit_bias", logitBias != null && !logitBias.isEmpty()),
                UnsupportedParameters.when("functions", UnsupportedParameters.present(functions)),
                UnsupportedParameters.when("function_call", !UnsupportedParameters.noneOrAuto(functionCall)),
                UnsupportedParameters.when("audio", UnsupportedParameters.present(audio)),
                UnsupportedParameters.when("prediction", UnsupportedParameters.present(prediction)));
    }

    /**
     * One chat message; {@code content} is a string or an array of {@code {"type": "text", "text"}} parts. An
     * assistant message may carry {@code tool_calls}; a {@code tool} message answers one by {@code tool_call_id}.
     */
    public record Message(String role, Object content, String name,
                          @JsonProperty("tool_calls") List<ToolCall> toolCalls,
                          @JsonProperty("tool_call_id") String toolCallId) {
    }
}
