package dev.kvshare.generation;

import java.util.Arrays;

import dev.kvshare.model.DecoderModel;
import dev.kvshare.model.KvCache;
import dev.kvshare.model.Logits;

/**
 * Recomputes the whole sequence from an empty past at every step and throws the KV away: what decoding
 * costs without a KV cache. Kept as a first-class mode because it is the ground truth for
 * {@link CachedDecoder} and the baseline of the KV-cache benchmark.
 */
public final class RecomputingDecoder implements SequenceDecoder {

    private final DecoderModel model;
    private final Logits logits;
    private int[] sequence = new int[0];

    public RecomputingDecoder(DecoderModel model) {
        this.model = model;
        this.logits = model.newLogits();
    }

    @Override
    public float[] start(int[] promptIds) {
        sequence = promptIds.clone();
        return recompute();
    }

    @Override
    public float[] next(int tokenId) {
        sequence = Arrays.copyOf(sequence, sequence.length + 1);
        sequence[sequence.length - 1] = tokenId;
        return recompute();
    }

    private float[] recompute() {
        int last = sequence[sequence.length - 1];
        if (sequence.length == 1) {
            model.step(last, model.emptyCache(), logits).close();
        } else {
            try (KvCache prefix = model.extend(Arrays.copyOf(sequence, sequence.length - 1), model.emptyCache())) {
                model.step(last, prefix, logits).close();
            }
        }
        return logits.values();
    }

    @Override
    public void close() {
        logits.close();
    }
}
