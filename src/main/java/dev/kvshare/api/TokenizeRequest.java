package dev.kvshare.api;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * {@code POST /tokenize}, in vLLM's shape ({@code prompt} or {@code messages}) and llama.cpp's ({@code content},
 * {@code add_special}, {@code with_pieces}).
 *
 * @param tools            with {@code messages}: the tools the chat endpoint would offer, rendered into the prompt
 * @param addSpecialTokens vLLM: whether the tokenizer adds its special tokens (a BOS) to a plain prompt;
 *                         default true. A rendered chat template already holds them.
 * @param returnTokenStrs  vLLM: adds {@code token_strs}, the text of each token decoded alone
 * @param withPieces       llama.cpp: the same as {@code return_token_strs}
 */
public record TokenizeRequest(
        String model,
        String prompt,
        String content,
        List<ChatCompletionRequest.Message> messages,
        List<Tool> tools,
        @JsonProperty("add_generation_prompt") Boolean addGenerationPrompt,
        @JsonProperty("add_special_tokens") Boolean addSpecialTokens,
        @JsonProperty("add_special") Boolean addSpecial,
        @JsonProperty("return_token_strs") Boolean returnTokenStrs,
        @JsonProperty("with_pieces") Boolean withPieces) {
}
