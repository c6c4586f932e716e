package dev.kvshare.generation;

import java.util.Arrays;

import dev.kvshare.model.Tokenizer;

/**
 * Turns generated token ids into text deltas as they arrive. A token can be part of a multi-byte
 * character, and some tokenizers only place a leading space right when they see the token before, so each
 * step decodes a short window that starts a few tokens back and emits only what the window added, holding
 * text back while it ends in an incomplete character.
 */
final class IncrementalDetokenizer {

    /** Prompt tokens kept as context for the first window. */
    private static final int CONTEXT_TOKENS = 5;
    private static final char REPLACEMENT = '\uFFFD';

    private final Tokenizer tokenizer;
    private int[] ids;
    private int size;
    private int prefixOffset;
    private int readOffset;

    IncrementalDetokenizer(Tokenizer tokenizer, int[] promptIds) {
        this.tokenizer = tokenizer;
        int context = Math.min(CONTEXT_TOKENS, promptIds.length);
        this.ids = Arrays.copyOf(Arrays.copyOfRange(promptIds, promptIds.length - context, promptIds.length),
                context + 16);
        this.size = context;
        this.prefixOffset = 0;
        this.readOffset = context;
    }

    /** Adds a token; returns the text it completes, possibly empty. */
    String add(int tokenId) {
        if (size == ids.length) {
            ids = Arrays.copyOf(ids, size * 2);
        }
        ids[size++] = tokenId;
        String prefix = tokenizer.decode(ids, prefixOffset, readOffset);
        String text = tokenizer.decode(ids, prefixOffset, size);
        if (text.length() > prefix.length() && text.charAt(text.length() - 1) != REPLACEMENT) {
            prefixOffset = readOffset;
            readOffset = size;
            return text.substring(prefix.length());
        }
        return "";
    }

    /** Whatever is still held back, at the end of the sequence. */
    String finish() {
        String prefix = tokenizer.decode(ids, prefixOffset, readOffset);
        String text = tokenizer.decode(ids, prefixOffset, size);
        readOffset = size;
        prefixOffset = size;
        return text.length() > prefix.length() ? text.substring(prefix.length()) : "";
    }
}
