package dev.kvshare.api;

import dev.kvshare.generation.GenerationProperties;
import dev.kvshare.model.ServedModel;
import org.springframework.stereotype.Component;

/** How many tokens a request may generate: what it asks for, or the configured default, within the context. */
@Component
class MaxTokens {

    private final int contextLength;
    private final int defaultMaxTokens;

    MaxTokens(ServedModel model, GenerationProperties properties) {
        this.contextLength = model.config().contextLength();
        this.defaultMaxTokens = properties.defaultMaxTokens();
    }

    /**
     * The number of tokens to generate after {@code prompt}: {@code requested}, or the configured default, within
     * the context that the prompt leaves.
     *
     * @param param       the request field that set {@code requested}
     * @param promptParam the request field that holds the prompt ({@code messages} or {@code prompt})
     */
    int after(int[] prompt, Integer requested, String param, String promptParam) {
        if (prompt.length == 0) {
            throw new InvalidRequestException("The prompt is empty", promptParam);
        }
        if (prompt.length >= contextLength) {
            throw new InvalidRequestException("This model's maximum context length is " + contextLength
                    + " tokens. However, your prompt has " + prompt.length + " tokens.", promptParam);
        }
        if (requested == null) {
            return Math.min(defaultMaxTokens, contextLength - prompt.length);
        }
        if (requested < 1) {
            throw new InvalidRequestException(param + " must be at least 1, not " + requested, param);
        }
        if (requested > contextLength - prompt.length) { // not prompt + requested: that overflows for huge values
            throw new InvalidRequestException("This model's maximum context length is " + contextLength
                    + " tokens. However, you requested " + ((long) prompt.length + requested) + " tokens ("
                    + prompt.length + " in the prompt, " + requested + " for the completion).", param);
        }
        return requested;
    }
}
