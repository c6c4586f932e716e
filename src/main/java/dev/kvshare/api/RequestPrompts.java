package dev.kvshare.api;

import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import dev.kvshare.generation.InvalidPromptException;
import dev.kvshare.generation.PromptBuilder;
import dev.kvshare.model.ChatTurn;
import dev.kvshare.model.ToolCallFormat;
import org.springframework.stereotype.Component;

/** Builds the prompt of a request; a prompt the model cannot run is the fault of the field it came from. */
@Component
class RequestPrompts {

    private final PromptBuilder prompts;

    RequestPrompts(PromptBuilder prompts) {
        this.prompts = prompts;
    }

    /** The conversation of {@code messages}, offering the model {@code tools} (null: none) called in {@code format}. */
    int[] messages(List<ChatTurn> turns, List<Map<String, Object>> tools, ToolCallFormat format) {
        return from("messages", () -> prompts.chat(turns, tools, format));
    }

    /** A text {@code prompt}, with or without the special tokens (a BOS, say) the tokenizer adds. */
    int[] text(String text, boolean addSpecialTokens) {
        return from("prompt", () -> prompts.text(text, addSpecialTokens));
    }

    /** Token ids sent by the client in the request field {@code param}. */
    int[] tokenIds(List<Integer> ids, String param) {
        if (ids.contains(null)) {
            throw new InvalidRequestException("Token ids must be integers", param);
        }
        return from(param, () -> prompts.tokenIds(ids.stream().mapToInt(Integer::intValue).toArray()));
    }

    private static int[] from(String param, Supplier<int[]> prompt) {
        try {
            return prompt.get();
        } catch (InvalidPromptException e) {
            throw new InvalidRequestException(e.getMessage(), param);
        }
    }
}
