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

    /**
     * The sequence's tokens as {@code sampler} chooses them from this decoder's logits. A decoder may sample
     * them itself where that is cheaper ({@link BatchedSequence}: the batch's own thread, without waking the
     * caller's between passes); it then needs to know when the sequence ends.
     *
     * @param ending when the sequence ends, if its tokens alone decide it; null when its text may end it
     *               sooner (stop strings): then the caller decides after each token
     */
    default TokenSource tokens(Sampler sampler, TokenEnding ending) {
        return TokenSource.sampling(this, sampler);
    }

    @Override
    void close();
}
