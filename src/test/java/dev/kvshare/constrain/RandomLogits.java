package dev.kvshare.constrain;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One seed's random logits, step after step: {@code N(0, 3²)} each, plus 8 for the favoured tokens. They depend
 * on the seed alone, so {@link TokenBudgetGuaranteeTest}, which runs every schema, limit and temperature on the
 * same few seeds, draws each step once and takes copies (the sampler masks its logits in place).
 */
final class RandomLogits {

    private final SplittableRandom weights;
    private final int size;
    private final long[] favoured;
    private final List<float[]> steps = new ArrayList<>();

    /** @param favoured one bit per token that gets 8 more; null for none */
    RandomLogits(long seed, int size, long[] favoured) {
        this.weights = new SplittableRandom(seed * 31L + 7);
        this.size = size;
        this.favoured = favoured;
    }

    /** A copy of the logits of {@code step}, counted from 1. */
    float[] at(int step) {
        while (steps.size() < step) {
            steps.add(draw());
        }
        return steps.get(step - 1).clone();
    }

    private float[] draw() {
        float[] logits = new float[size];
        for (int i = 0; i < size; i++) {
            boolean favour = favoured != null && (favoured[i >>> 6] & (1L << i)) != 0;
            logits[i] = (float) (weights.nextGaussian() * 3) + (favour ? 8 : 0);
        }
        return logits;
    }
}
