package dev.kvshare.generation;

import java.util.function.Consumer;

import dev.kvshare.model.DecoderModel;
import dev.kvshare.model.KvCache;
import dev.kvshare.model.KvRow;
import dev.kvshare.model.Logits;
import dev.kvshare.model.NativeScope;

/**
 * Prefill once, then one token per step, each step's present KV handed back as the next step's past.
 * A step's cache is closed only after the next step has run on it. The sequence's natives (its cache, its
 * logits buffer) live in its scope, closed with the decoder.
 */
public final class CachedDecoder implements KvKeepingDecoder {

    /** Told once the prompt is prefilled, while its KV is still at hand (the prompt cache stores it). */
    @FunctionalInterface
    public interface PrefillListener {

        PrefillListener NONE = (cache, computedTokens, nanos) -> { };

        /** @param cache KV of the whole prompt; valid only during the call */
        void prefilled(KvCache cache, int computedTokens, long nanos);
    }

    private final DecoderModel model;
    private final NativeScope scope = new NativeScope();
    private final Logits logits;
    private final PrefillListener listener;
    private KvCache cache;

    /**
     * @param past KV already known for the first {@code past.length()} prompt tokens (restored from the
     *             prompt cache), or the model's empty cache; this decoder owns it from the call on (closed
     *             here if the decoder cannot be made)
     */
    public CachedDecoder(DecoderModel model, KvCache past, PrefillListener listener) {
        this.model = model;
        this.cache = scope.track(past);
        this.listener = listener;
        try {
            this.logits = scope.track(model.newLogits());
        } catch (RuntimeException e) {
            scope.close();
            throw e;
        }
    }

    public CachedDecoder(DecoderModel model, KvCache past) {
        this(model, past, PrefillListener.NONE);
    }

    public CachedDecoder(DecoderModel model) {
        this(model, model.emptyCache());
    }

    @Override
    public float[] start(int[] promptIds) {
        PromptPrefill prefill = new PromptPrefill(model, promptIds, cache, listener, scope);
        try {
            while (prefill.remaining() > 0) {
                prefill.advance(Integer.MAX_VALUE, logits);
            }
        } finally {
            cache = prefill.cache();
        }
        return logits.values();
    }

    @Override
    public float[] next(int tokenId) {
        cache = scope.replace(cache, model.step(tokenId, cache, logits));
        return logits.values();
    }

    /** The KV of every token fed so far. */
    public KvCache cache() {
        return cache;
    }

    @Override
    public void readKv(Consumer<KvRow> reader) {
        reader.accept(KvRow.of(cache));
    }

    @Override
    public void close() {
        scope.close();
    }
}
