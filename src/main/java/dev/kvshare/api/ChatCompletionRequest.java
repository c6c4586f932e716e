package dev.kvshare.api;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonProperty;

/** {@code POST /v1/chat/completions}; unknown fields are ignored, as OpenAI clients send many. */
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
        @JsonProperty("cache_salt") String cacheSalt) implements SamplingFields {

    /**
     * One chat message; {@code content} is a string or an array of {@code {"type": "text", "text"}} parts.
     */
    public record Message(String role, Object content, String name) {
    }
}
