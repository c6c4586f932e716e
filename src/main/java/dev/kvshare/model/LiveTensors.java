package dev.kvshare.model;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Native tensors one model holds now: KV caches, a pass's inputs and the logits buffers. It returns to the
 * same level whenever no request runs; growth under steady traffic means a leak of native memory (exported as
 * {@code kvshare_model_live_tensors}; the chaos soak asserts it). One per {@link DecoderModel}, so that models
 * loaded side by side (tests do) count their own.
 */
public final class LiveTensors {

    private final AtomicLong live = new AtomicLong();

    LiveTensors() {
    }

    public long count() {
        return live.get();
    }

    void opened(int tensors) {
        live.addAndGet(tensors);
    }

    void closed(int tensors) {
        live.addAndGet(-tensors);
    }
}
