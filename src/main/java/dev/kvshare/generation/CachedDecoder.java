package dev.kvshare.generation;

import java.util.function.Consumer;

import dev.kvshare.model.DecoderModel;
import dev.kvshare.model.KvCache;
import dev.kvshare.model.KvRow;
import dev.kvshare.model.Logits;

/**
 * Prefill once, then one token per step, each step's present KV handed back as the next step's past.
 * A step's cache is closed only after the next step has run on it.
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
    private final Logits logits;
    private final PrefillListener listener;
    private KvCache cache;

    /**
     * @param past KV already known for the first {@code past.length()} prompt tokens (restored from the
     *             prompt cache), or the model's empty cache; this decoder takes ownership of it
     */
    public CachedDecoder(DecoderModel model, KvCache past, PrefillListener listener) {
        this.model = model;
        this.cache = past;
        this.listener = listener;
        this.logits = model.newLogits();
    }

    public CachedDecoder(DecoderModel model, KvCache past) {
        this(model, past, PrefillListener.NONE);
    }

    public CachedDecoder(DecoderModel model) {
        this(model, model.emptyCache());
    }

    @Override
    public float[] start(int[] promptIds) {
        PromptPrefill prefill = new PromptPrefill(model, promptIds, cache, listener);
        try {
            while (prefill.remaining() > 0) {
                prefill.advance(Integer.MAX_VALUE, logits);
            }
        } finally {
            cache = prefill.release();
        }
        return logits.values();
    }

    @Override
    public float[] next(int tokenId) {
        replaceCache(model.step(tokenId, cache, logits));
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

    private void replaceCache(KvCache next) {
        cache.close();
        cache = next;
    }

    @Override
    public void close() {
        cache.close();
        logits.close();
    }
}
