package dev.kvshare.generation;

import java.util.List;
import java.util.Map;

import dev.kvshare.model.ChatTemplateException;
import dev.kvshare.model.ChatTurn;
import dev.kvshare.model.PromptTooLongException;
import dev.kvshare.model.ServedModel;
import dev.kvshare.model.ToolCallFormat;

/**
 * Turns a conversation, a text or token ids into the token prompt the served model runs, checked against its
 * context and vocabulary. Every method throws {@link InvalidPromptException} for a prompt the model cannot run.
 */
public final class PromptBuilder {

    private final ServedModel model;

    public PromptBuilder(ServedModel model) {
        this.model = model;
    }

    /**
     * Renders a conversation with the model's chat template, ending with the assistant's turn, offering the
     * model {@code tools} (null: none) that it calls in {@code format}.
     */
    public int[] chat(List<ChatTurn> turns, List<Map<String, Object>> tools, ToolCallFormat format) {
        try {
            return tokenIds(model.chatPrompts().encode(turns, tools, format, model.config().contextLength()));
        } catch (ChatTemplateException | PromptTooLongException e) {
            throw new InvalidPromptException(e.getMessage());
        }
    }

    /** Tokenizes a plain text, with or without the special tokens (a BOS, say) the tokenizer adds. */
    public int[] text(String text, boolean addSpecialTokens) {
        long minTokens = model.tokenizer().minTokens(text);
        if (minTokens > model.config().contextLength()) {
            throw new InvalidPromptException(
                    new PromptTooLongException(minTokens, model.config().contextLength()).getMessage());
        }
        return tokenIds(model.tokenizer().encode(text, addSpecialTokens));
    }

    /** The tokens two conversations sharing {@code system} have in common: its cacheable prefix. */
    public int[] systemPrefix(String system) {
        try {
            return tokenIds(model.chatPrompts().systemPrefix(system, model.config().contextLength()));
        } catch (ChatTemplateException | PromptTooLongException e) {
            throw new InvalidPromptException(e.getMessage());
        }
    }

    /** Every id must index the model's embeddings; a tokenizer that does not match its model fails here too. */
    public int[] tokenIds(int[] ids) {
        int vocab = model.decoder().io().vocabSize();
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocab) {
                throw new InvalidPromptException("Token id " + ids[i] + " at prompt position " + i
                        + " is outside the model's vocabulary [0, " + vocab + ")");
            }
        }
        return ids;
    }
}
