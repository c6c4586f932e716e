package dev.kvshare.generation;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

import dev.kvshare.constrain.TokenConstraint;
import dev.kvshare.model.Logits;

/**
 * Chooses each next token: penalties, then greedy argmax or temperature / top-k / top-p sampling.
 * One sampler per sequence: it remembers the tokens it chose, for the penalties, and its random
 * stream, seeded when the request gives a seed so the same request gives the same text. A
 * {@link TokenConstraint} (structured output) masks the tokens it rules out before any selection.
 */
public final class Sampler {

    private final SamplingParams params;
    private final TokenConstraint constraint;
    private final SplittableRandom random;
    private final Map<Integer, Integer> counts = new HashMap<>();
    /** Per-token scratch, reused: a top-p row would otherwise leave ~36 KiB of garbage a token (3,072 logits). */
    private double[] weights;
    private int[] candidates;

    public Sampler(SamplingParams params) {
        this(params, TokenConstraint.NONE);
    }

    public Sampler(SamplingParams params, TokenConstraint constraint) {
        this.params = params;
        this.constraint = constraint;
        this.random = params.seed().isPresent() ? new SplittableRandom(params.seed().getAsLong())
                : new SplittableRandom();
    }

    /** Picks the next token; {@code logits} may be modified. */
    public int next(float[] logits) {
        if (params.penalized()) {
            applyPenalties(logits);
        }
        constraint.mask(logits);
        int token = choose(logits);
        while (!constraint.allows(token)) {
            if (logits[token] != Float.NEGATIVE_INFINITY) {
                logits[token] = Float.NEGATIVE_INFINITY; // one the constraint checks only once drawn: choose again
                token = choose(logits);
            } else { // a masked one, which rounding in the last draw step can land on
                token = Logits.argmax(logits);
                if (logits[token] == Float.NEGATIVE_INFINITY) {
                    throw new IllegalStateException("The constraint allows no token here");
                }
            }
        }
        constraint.accept(token);
        counts.merge(token, 1, Integer::sum);
        return token;
    }

    /**
     * Whether choosing a token needs nothing but the logits and this sampler's random stream: no constraint
     * (whose mask walks a grammar per candidate) and no penalties. Such a sampler may run on any one thread.
     */
    boolean plain() {
        return constraint == TokenConstraint.NONE && !params.penalized();
    }

    /** Whether the constraint's token limit shaped its value (see {@link TokenConstraint#cutShort()}). */
    public boolean constraintCutShort() {
        return constraint.cutShort();
    }

    /** Whether the constraint's value is complete: the sequence ends as at an end-of-sequence token. */
    public boolean constraintComplete() {
        return constraint.complete();
    }

    private int choose(float[] logits) {
        return params.greedy() ? Logits.argmax(logits) : sample(logits);
    }

    private void applyPenalties(float[] logits) {
        counts.forEach((token, count) ->
                logits[token] -= (float) (params.presencePenalty() + params.frequencyPenalty() * count));
    }

    private int sample(float[] logits) {
        double[] weights = softmaxWeights(logits);
        int[] candidates = allIds(weights.length);
        int n = candidates.length;
        if (params.topK() > 0) {
            n = TopSelection.byCountInPlace(weights, candidates, n, params.topK());
        }
        if (params.topP() < 1) {
            // top-p applies to the distribution top-k left, renormalized (as Hugging Face does).
            double mass = sum(weights, candidates, n);
            n = TopSelection.byMassInPlace(weights, candidates, n, params.topP() * mass);
        }
        return draw(weights, candidates, n, sum(weights, candidates, n));
    }

    /** Unnormalized probabilities {@code exp((logit - max) / temperature)}: the largest is 1. */
    private double[] softmaxWeights(float[] logits) {
        float max = logits[Logits.argmax(logits)];
        if (weights == null || weights.length != logits.length) {
            weights = new double[logits.length];
        }
        for (int i = 0; i < logits.length; i++) {
            weights[i] = Math.exp((logits[i] - max) / params.temperature());
        }
        return weights;
    }

    /** Every token id in order, in this sampler's scratch array (which the selections reorder). */
    private int[] allIds(int vocabSize) {
        if (candidates == null || candidates.length != vocabSize) {
            candidates = new int[vocabSize];
        }
        Arrays.setAll(candidates, i -> i);
        return candidates;
    }

    /** Draws one of the first {@code n} of {@code ids}, each with probability proportional to its weight. */
    private int draw(double[] weights, int[] ids, int n, double total) {
        double draw = random.nextDouble() * total;
        for (int i = 0; i < n - 1; i++) {
            draw -= weights[ids[i]];
            if (draw < 0) {
                return ids[i];
            }
        }
        return ids[n - 1];
    }

    private static double sum(double[] weights, int[] ids, int n) {
        double total = 0;
        for (int i = 0; i < n; i++) {
            total += weights[ids[i]];
        }
        return total;
    }
}
