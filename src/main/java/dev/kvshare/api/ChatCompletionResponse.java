package dev.kvshare.api;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/** The {@code chat.completion} object. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ChatCompletionResponse(String id, String object, long created, String model, List<Choice> choices,
                                     Usage usage, @JsonProperty("prompt_token_ids") int[] promptTokenIds) {

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Choice(int index, Message message,
                         @JsonInclude(JsonInclude.Include.ALWAYS) @JsonProperty("finish_reason") String finishReason,
                         @JsonInclude(JsonInclude.Include.ALWAYS) Object logprobs,
                         @JsonProperty("token_ids") int[] tokenIds) {
    }

    /** {@code content} is null (and sent as null) when the reply is only tool calls. */
    public record Message(String role, String content,
                          @JsonInclude(JsonInclude.Include.NON_NULL) @JsonProperty("tool_calls")
                          List<ToolCall> toolCalls) {
    }
}
