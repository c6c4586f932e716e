package dev.kvshare.generation;

import java.util.Arrays;

import dev.kvshare.model.DecoderModel;
import dev.kvshare.model.KvCache;
import dev.kvshare.model.Logits;
import dev.kvshare.model.NativeScope;

/**
 * A prompt's prefill, run in pieces: everything but the last token as "extend" passes that read no logits,
 * then the last token as one step whose logits choose the first generated token. A sequence alone runs it
 * in one go; the batch scheduler runs it a budget of tokens at a time between decode passes.
 */
final class PromptPrefill {

    private final DecoderModel model;
    private final int[] prompt;
    private final int known;
    private final CachedDecoder.PrefillListener listener;
    private final NativeScope sequence;
    private KvCache cache;
    private int position;
    private long nanos;

    /**
     * @param past     KV already known for the first {@code past.length()} prompt tokens, or the model's empty
     *                 cache; tracked in {@code sequence}
     * @param sequence the sequence's scope: each pass's cache replaces the one before in it
     */
    PromptPrefill(DecoderModel model, int[] prompt, KvCache past, CachedDecoder.PrefillListener listener,
                  NativeScope sequence) {
        if (past.length() >= prompt.length) {
            // The last prompt token is always computed, so that its logits exist.
            throw new IllegalArgumentException("The past covers the whole prompt; at least one token must be computed");
        }
        this.model = model;
        this.prompt = prompt;
        this.known = past.length();
        this.listener = listener;
        this.sequence = sequence;
        this.cache = past;
        this.position = known;
    }

    int remaining() {
        return prompt.length - position;
    }

    /**
     * Runs at most {@code maxTokens} (at least 1) more prompt tokens; the pass of the last one writes its
     * logits into {@code logits}, and then the listener is told.
     *
     * @return the tokens run
     */
    int advance(int maxTokens, Logits logits) {
        long start = System.nanoTime();
        int[] tokens = nextTokens(maxTokens);
        KvCache next = atLastToken() ? model.step(tokens[0], cache, logits) : model.extend(tokens, cache);
        ran(tokens.length, next, System.nanoTime() - start);
        return tokens.length;
    }

    /** Whether its next pass is the last prompt token's, whose logits choose the first generated token. */
    boolean atLastToken() {
        return position == prompt.length - 1;
    }

    /**
     * The tokens of its next pass, at most {@code maxTokens} (at least 1): prompt tokens up to the one before
     * the last, which reads no logits, or else the last one alone.
     */
    int[] nextTokens(int maxTokens) {
        return Arrays.copyOfRange(prompt, position, position + nextLength(maxTokens));
    }

    /** How many tokens {@link #nextTokens} gives. */
    int nextLength(int maxTokens) {
        return atLastToken() ? 1 : Math.min(maxTokens, prompt.length - 1 - position);
    }

    /**
     * Its next {@code tokens} ran (alone, or in a pass with other prompts), taking {@code nanos}: {@code next}
     * replaces its cache, and the listener is told once the prompt is whole.
     */
    void ran(int tokens, KvCache next, long nanos) {
        replace(next);
        position += tokens;
        this.nanos += nanos;
        if (remaining() == 0) {
            listener.prefilled(cache, prompt.length - known, this.nanos);
        }
    }

    private void replace(KvCache next) {
        cache = sequence.replace(cache, next);
    }

    /** The KV of the prompt so far, in the sequence's scope. */
    KvCache cache() {
        return cache;
    }
}
