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
        double[] weights = softmaxWeights(logits);
        if (params.topK() == 0 && params.topP() >= 1) {
            return draw(weights, null, weights.length, sum(weights, null, weights.length));
        }
        int[] candidates = topCandidates(weights);
        int k = params.topK() > 0 ? Math.min(params.topK(), candidates.length) : candidates.length;
        // top-p applies to the distribution top-k left, renormalized (as Hugging Face does).
        double total = params.topK() > 0 ? sum(weights, candidates, k) : sum(weights, null, weights.length);
        int kept = nucleusSize(weights, candidates, k, total);
        return draw(weights, candidates, kept, sum(weights, candidates, kept));
    }

    /** Unnormalized probabilities {@code exp((logit - max) / temperature)}: the largest is 1. */
    private double[] softmaxWeights(float[] logits) {
        float max = logits[argmax(logits)];
        double[] weights = new double[logits.length];
        for (int i = 0; i < logits.length; i++) {
            weights[i] = Math.exp((logits[i] - max) / params.temperature());
        }
        return weights;
    }

    /**
     * The most likely tokens by descending weight (lowest id first on a tie): enough of them to hold the
     * top-k and the top-p nucleus. Sorting the whole vocabulary (150k entries on current models) at every
     * token would cost milliseconds, so only tokens above a weight threshold are sorted, the threshold
     * lowered until they are guaranteed to contain both sets.
     */
    private int[] topCandidates(double[] weights) {
        double total = sum(weights, null, weights.length);
        for (double threshold = 1e-3; ; threshold = threshold > 1e-12 ? threshold * 1e-3 : 0) {
            int count = 0;
            double mass = 0;
            for (double weight : weights) {
                if (weight >= threshold) {
                    count++;
                    mass += weight;
                }
            }
            boolean holdsTopK = params.topK() == 0 || count >= Math.min(params.topK(), weights.length);
            boolean holdsNucleus = params.topK() > 0 || params.topP() >= 1 || mass >= params.topP() * total;
            if ((holdsTopK && holdsNucleus) || threshold == 0) {
                return sortedAbove(weights, threshold, count);
            }
        }
    }

    private static int[] sortedAbove(double[] weights, double threshold, int count) {
        // (weight, id) packed into longs: the weight's bits sort like the weight (it is positive), and the id
        // is stored inverted so that, reading from the top, a tie yields the lower id first.
        long[] packed = new long[count];
        int n = 0;
        for (int i = 0; i < weights.length; i++) {
            if (weights[i] >= threshold) {
                long bits = Float.floatToIntBits((float) weights[i]);
                packed[n++] = (bits << 32) | (0xffffffffL & (weights.length - 1 - i));
            }
        }
        Arrays.sort(packed);
        int[] ids = new int[count];
        for (int i = 0; i < count; i++) {
            ids[i] = weights.length - 1 - (int) packed[count - 1 - i];
        }
        return ids;
    }

    /** How many of the first {@code k} candidates top-p keeps: at least one. */
    private int nucleusSize(double[] weights, int[] candidates, int k, double total) {
        if (params.topP() >= 1) {
            return k;
        }
        double cumulative = 0;
        for (int i = 0; i < k; i++) {
            cumulative += weights[candidates[i]] / total;
            if (cumulative >= params.topP()) {
                return i + 1;
            }
        }
        return k;
    }

    /** Draws among the first {@code n} tokens of {@code ids} (or ids 0..n-1 when null), by weight. */
    private int draw(double[] weights, int[] ids, int n, double total) {
        double draw = random.nextDouble() * total;
        for (int i = 0; i < n - 1; i++) {
            draw -= weights[ids == null ? i : ids[i]];
            if (draw < 0) {
                return ids == null ? i : ids[i];
            }
        }
        return ids == null ? n - 1 : ids[n - 1];
    }

    private static double sum(double[] weights, int[] ids, int n) {
        double total = 0;
        for (int i = 0; i < n; i++) {
            total += weights[ids == null ? i : ids[i]];
        }
        return total;
    }
}
