package dev.kvshare.generation;

/**
 * How many prompt tokens the batch scheduler prefills between two decode passes. While streams run: as many
 * as take at most {@value #SHARE} of the streams' own cycle (the time from one decode pass to the next, less
 * the prefill in it: the pass, sampling, repacks), aiming at a running stream's longest gap between tokens
 * under twice its usual one; learned from the passes as they run, so it follows the model, the machine's load
 * and the batch's size. At most {@code prefill-tokens-per-step}, and that many when no stream runs (then no
 * one waits on the prefill).
 *
 * <p>A prefill pass has a fixed cost besides its tokens' (a read of every weight, as a decode pass has), so
 * fewer tokens a cycle stop saving time once that cost is most of the pass: the allowance never shrinks
 * below the size whose cost per token is {@value #OVERHEAD_LIMIT}x that of a full-size pass. Where even that
 * size takes more than the share (a model whose pass is memory-bound), the streams' gaps grow past twice
 * their usual rather than the prompt's prefill growing without bound.
 *
 * <p>The share is the running streams' as a whole against one prompt. When more prompts wait than streams run
 * (16 clients arriving together, the first few already streaming), each waiting prompt counts as a stream: the
 * share grows by prompts / streams, so the clients still without a first token are not held to a few tokens a
 * cycle for the sake of the few that have theirs (two streams beside fourteen 32-token prompts prefilled them 3
 * to 6 tokens a pass, each pass paying its fixed cost, for 3 s). One prompt beside any number of streams keeps
 * the share as it is. The scheduler thread's own.
 */
final class PrefillPacing {

    /** The share of the streams' own cycle that prefill may add to it. */
    static final double SHARE = 0.75;
    /** Cost per token, against a full-size pass's, past which a smaller allowance is not worth its overhead. */
    static final double OVERHEAD_LIMIT = 2;
    /** Weight of the newest sample in the moving averages. */
    private static final double SMOOTHING = 0.25;
    /** The most the allowance grows by from one cycle to the next. */
    private static final double MAX_GROWTH = 2;

    private final int most;
    /**
     * Tokens a cycle may prefill while streams run: the most at first, then scaled by every cycle that spends
     * it (so the first such cycle may take longer than the share), growing at most {@value #MAX_GROWTH}x a cycle.
     */
    private int allowance;
    /** Prompts waiting per running stream, at least 1, in the cycle under way: its share is that many times. */
    private double weight = 1;
    private double streamCycleNanos = Double.NaN;
    /** Prefill cost per token of iterations that ran at least half the most: what a full-size pass costs. */
    private double fullSizeNanosPerToken = Double.NaN;
    /** When the last decode pass started; -1 when no stream ran since the last one. */
    private long lastPass = -1;
    private long prefillNanos;
    private int prefillTokens;

    PrefillPacing(int most) {
        this.most = most;
        this.allowance = most;
    }

    /** Tokens this iteration may prefill, with {@code streams} running and {@code prompts} being prefilled. */
    int tokens(int streams, int prompts) {
        if (streams == 0) {
            lastPass = -1; // a cycle spanning a time without streams says nothing of theirs
            return most;
        }
        weight = Math.max(1, (double) prompts / streams);
        return granted();
    }

    private int granted() {
        return (int) Math.min(most, Math.round(allowance * weight));
    }

    /** An iteration prefilled {@code tokens} in {@code nanos}. */
    void prefilled(int tokens, long nanos) {
        prefillTokens += tokens;
        prefillNanos += nanos;
        if (tokens * 2 >= most) {
            fullSizeNanosPerToken = average(fullSizeNanosPerToken, (double) nanos / tokens);
        }
    }

    /**
     * A decode pass starts at {@code now}: the cycle since the last one, less its prefill, updates the streams'
     * own cycle; and when the cycle used all it was granted, the allowance is scaled so that its prefill
     * would have taken its (weighted) share, unless that would shrink it while its passes already cost
     * {@value #OVERHEAD_LIMIT}x a full-size pass's per token (then it grows instead).
     */
    void passStarts(long now) {
        if (lastPass >= 0) {
            streamCycleNanos = average(streamCycleNanos, Math.max(0, now - lastPass - prefillNanos));
            if (prefillTokens >= granted() && prefillNanos > 0) {
                double scale = Math.min(MAX_GROWTH, SHARE * weight * streamCycleNanos / prefillNanos);
                boolean overheadBound = (double) prefillNanos / prefillTokens
                        > OVERHEAD_LIMIT * fullSizeNanosPerToken;
                if (scale < 1 && overheadBound) {
                    scale = MAX_GROWTH;
                }
                allowance = (int) Math.max(1, Math.min(most, Math.round(allowance * scale)));
            }
        }
        lastPass = now;
        prefillNanos = 0;
        prefillTokens = 0;
    }

    private static double average(double average, double sample) {
        return Double.isNaN(average) ? sample : SMOOTHING * sample + (1 - SMOOTHING) * average;
    }
}
