package dev.kvshare.promptcache;

/**
 * The local tier's bound when {@code kvshare.prompt-cache.local.max-bytes} is not set: enough KV for
 * {@value #CONTEXTS_PER_SEQUENCE} full contexts per concurrent sequence (each running conversation's next turn,
 * plus the shared system prompts and the conversations that just ended), but at most
 * 1/{@value #HEAP_FRACTION_DIVISOR} of the maximum heap, which holds the blocks. A fixed size is wrong for
 * every model but one: 256 MB was 10,000 tokens of a Qwen2.5-0.5B's fp32 KV, and 131,000 of the bundled model's.
 */
public final class LocalTierSize {

    static final int CONTEXTS_PER_SEQUENCE = 2;
    static final int HEAP_FRACTION_DIVISOR = 4;

    private LocalTierSize() {
    }

    /**
     * @param bytesPerToken       KV bytes of one token (2 × layers × kv_heads × head_dim × dtype bytes)
     * @param contextLength       the model's context, in tokens
     * @param concurrentSequences {@code kvshare.generation.max-concurrent}
     * @param maxHeapBytes        {@link Runtime#maxMemory()}
     */
    public static long forModel(long bytesPerToken, int contextLength, int concurrentSequences, long maxHeapBytes) {
        long tokens = (long) contextLength * CONTEXTS_PER_SEQUENCE * concurrentSequences;
        long wanted = tokens > Long.MAX_VALUE / Math.max(1, bytesPerToken) ? Long.MAX_VALUE : tokens * bytesPerToken;
        return Math.min(wanted, maxHeapBytes / HEAP_FRACTION_DIVISOR);
    }
}
