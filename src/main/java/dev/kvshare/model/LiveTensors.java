package dev.kvshare.model;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Native tensors the service holds now: KV caches, a pass's inputs and the logits buffers. It returns to
 * the same level whenever no request runs; growth under steady traffic means a leak of native memory
 * (exported as {@code kvshare_model_live_tensors}; the chaos soak asserts it).
 */
public final class LiveTensors {

    private static final AtomicLong LIVE = new AtomicLong();

    private LiveTensors() {
    }

    public static long count() {
        return LIVE.get();
    }

    static void opened(int tensors) {
        LIVE.addAndGet(tensors);
    }

    static void closed(int tensors) {
        LIVE.addAndGet(-tensors);
    }
}
