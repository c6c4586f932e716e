package dev.kvshare.generation;

/**
 * Turns a growing token sequence into next-token logits. Two strategies: {@link CachedDecoder} (prefill
 * once, then one token per step on the KV cache) and {@link RecomputingDecoder} (the whole sequence every
 * step: the reference the cached loop must match, and the baseline the benchmarks compare against).
 */
public interface SequenceDecoder extends AutoCloseable {

    /** Feeds the prompt and returns the logits for the first generated token. */
    float[] start(int[] promptIds);

    /** Appends a generated token and returns the logits for the one after it. */
    float[] next(int tokenId);

    @Override
    void close();
}
