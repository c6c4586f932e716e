package dev.kvshare.generation;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Chooses each next token: penalties, then greedy argmax or temperature / top-k / top-p sampling.
 * One sampler per sequence: it remembers the tokens it chose, for the penalties, and its random
 * stream, seeded when the request gives a seed so the same request gives the same text.
 */
public final class Sampler {

    private final SamplingParams params;
    private final SplittableRandom random;
    private final Map<Integer, Integer> counts = new HashMap<>();

    public Sampler(SamplingParams params) {
        this.params = params;
        this.random = params.seed().isPresent() ? new SplittableRandom(params.seed().getAsLong())
                : new SplittableRandom();
    }

    /** Picks the next token; {@code logits} may be modified. */
    public int next(float[] logits) {
        if (params.penalized()) {
            applyPenalties(logits);
        }
        int token = params.greedy() ? argmax(logits) : sample(logits);
        counts.merge(token, 1, Integer::sum);
        return token;
    }

    /** The most likely token; the lowest id wins a tie. */
    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    private void applyPenalties(float[] logits) {
        counts.forEach((token, count) ->
                logits[token] -= (float) (params.presencePenalty() + params.frequencyPenalty() * count));
    }

    private int sample(float[] logits) {
        int[] candidates = topCandidates(logits);
        double max = logits[candidates[0]];
        double[] weights = new double[candidates.length];
        double total = 0;
        for (int i = 0; i < candidates.length; i++) {
            weights[i] = Math.exp((logits[candidates[i]] - max) / params.temperature());
            total += weights[i];
        }
        int kept = nucleusSize(weights, total);
        double keptTotal = 0;
        for (int i = 0; i < kept; i++) {
            keptTotal += weights[i];
        }
        double draw = random.nextDouble() * keptTotal;
        for (int i = 0; i < kept - 1; i++) {
            draw -= weights[i];
            if (draw < 0) {
                return candidates[i];
            }
        }
        return candidates[kept - 1];
    }

    /** Token ids sorted by descending logit, cut to top-k when set. */
    private int[] topCandidates(float[] logits) {
        int k = params.topK() > 0 ? Math.min(params.topK(), logits.length) : logits.length;
        // Sort (logit, id) pairs packed into longs: the float bits made order-preserving in the high half.
        long[] packed = new long[logits.length];
        for (int i = 0; i < logits.length; i++) {
            int bits = Float.floatToIntBits(logits[i]);
            int ordered = bits ^ ((bits >> 31) & 0x7fffffff);
            packed[i] = ((long) ordered << 32) | (0xffffffffL & (logits.length - 1 - i));
        }
        Arrays.sort(packed);
        int[] ids = new int[k];
        for (int i = 0; i < k; i++) {
            ids[i] = logits.length - 1 - (int) packed[packed.length - 1 - i];
        }
        return ids;
    }

    /** How many of the (descending) weights top-p keeps: at least one. */
    private int nucleusSize(double[] weights, double total) {
        if (params.topP() >= 1) {
            return weights.length;
        }
        double cumulative = 0;
        for (int i = 0; i < weights.length; i++) {
            cumulative += weights[i] / total;
            if (cumulative >= params.topP()) {
                return i + 1;
            }
        }
        return weights.length;
    }
}
