package dev.kvshare.api;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/** The {@code text_completion} object; streamed completions send it in pieces with the same shape. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CompletionResponse(String id, String object, long created, String model, List<Choice> choices,
                                 Usage usage, @JsonProperty("prompt_token_ids") int[] promptTokenIds) {

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Choice(int index, String text,
                         @JsonInclude(JsonInclude.Include.ALWAYS) @JsonProperty("finish_reason") String finishReason,
                         @JsonInclude(JsonInclude.Include.ALWAYS) Object logprobs,
                         @JsonProperty("token_ids") int[] tokenIds) {
    }
}
