package dev.kvshare.generation;

/**
 * How many prompt tokens the batch scheduler prefills between two decode passes. While streams run: as many
 * as take at most {@value #SHARE} of the streams' own cycle (the time from one decode pass to the next, less
 * the prefill in it: the pass, sampling, repacks), so a running stream's longest gap between tokens stays
 * under twice its usual one; learned from the passes as they run, so it follows the model, the machine's load
 * and the batch's size. At most {@code prefill-tokens-per-step}, and that many when no stream runs (then no
 * one waits on the prefill). The scheduler thread's own.
 */
final class PrefillPacing {

    /** The share of the streams' own cycle that prefill may add to it. */
    static final double SHARE = 0.75;
    /** Weight of the newest cycle in the moving average of the streams' own cycle. */
    private static final double SMOOTHING = 0.25;
    /** The most the allowance grows by from one cycle to the next. */
    private static final double MAX_GROWTH = 2;

    private final int most;
    /**
     * Tokens a cycle may prefill while streams run: the most at first, then scaled by every cycle that spends
     * it (so the first such cycle may take longer than the share), growing at most {@value #MAX_GROWTH}x a cycle.
     */
    private int allowance;
    private double streamCycleNanos = Double.NaN;
    /** When the last decode pass started; -1 when no stream ran since the last one. */
    private long lastPass = -1;
    private long prefillNanos;
    private int prefillTokens;

    PrefillPacing(int most) {
        this.most = most;
        this.allowance = most;
    }

    /** Tokens this iteration may prefill. */
    int tokens(boolean streamsRun) {
        if (!streamsRun) {
            lastPass = -1; // a cycle spanning a time without streams says nothing of theirs
            return most;
        }
        return Math.min(allowance, most);
    }

    void prefilled(int tokens, long nanos) {
        prefillTokens += tokens;
        prefillNanos += nanos;
    }

    /**
     * A decode pass starts at {@code now}: the cycle since the last one, less its prefill, updates the streams'
     * own cycle; and when the cycle used its whole allowance, the allowance is scaled so that its prefill
     * would have taken its share.
     */
    void passStarts(long now) {
        if (lastPass >= 0) {
            long own = Math.max(0, now - lastPass - prefillNanos);
            streamCycleNanos = Double.isNaN(streamCycleNanos) ? own
                    : SMOOTHING * own + (1 - SMOOTHING) * streamCycleNanos;
            if (prefillTokens >= allowance && prefillNanos > 0) {
                double scale = Math.min(MAX_GROWTH, SHARE * streamCycleNanos / prefillNanos);
                allowance = (int) Math.max(1, Math.min(most, Math.round(allowance * scale)));
            }
        }
        lastPass = now;
        prefillNanos = 0;
        prefillTokens = 0;
    }
}
