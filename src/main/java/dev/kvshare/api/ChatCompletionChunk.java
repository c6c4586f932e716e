package dev.kvshare.api;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/** One {@code chat.completion.chunk} of a streamed chat completion. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ChatCompletionChunk(String id, String object, long created, String model, List<Choice> choices,
                                  Usage usage, @JsonProperty("prompt_token_ids") int[] promptTokenIds) {

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Choice(int index, Delta delta,
                         @JsonInclude(JsonInclude.Include.ALWAYS) @JsonProperty("finish_reason") String finishReason,
                         @JsonInclude(JsonInclude.Include.ALWAYS) Object logprobs,
                         @JsonProperty("token_ids") int[] tokenIds) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Delta(String role, String content, @JsonProperty("tool_calls") List<ToolCall> toolCalls) {

        public Delta(String role, String content) {
            this(role, content, null);
        }
    }
}
