package dev.kvshare.promptcache;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Decides whether fetching KV from Redis beats computing it. A remote hit only wins when the fetch is
 * faster than prefilling the same tokens — on a fast GPU behind a slow network it may not be. Both rates
 * are measured as the service runs (exponentially weighted, tokens per second); until both are known, and
 * on one lookup in {@value #PROBE_EVERY} after, Redis is tried anyway so the fetch rate stays current.
 */
public final class FetchOrCompute {

    static final int PROBE_EVERY = 16;
    private static final double WEIGHT = 0.2;

    private final Rate fetch = new Rate();
    private final Rate prefill = new Rate();
    private final AtomicLong decisions = new AtomicLong();

    public void fetched(int tokens, long nanos) {
        fetch.add(tokens, nanos);
    }

    public void prefilled(int tokens, long nanos) {
        prefill.add(tokens, nanos);
    }

    /** Whether to ask Redis now. */
    public boolean shouldFetch() {
        double fetchRate = fetch.tokensPerSecond();
        double prefillRate = prefill.tokensPerSecond();
        if (fetchRate == 0 || prefillRate == 0 || fetchRate > prefillRate) {
            return true;
        }
        return decisions.incrementAndGet() % PROBE_EVERY == 0;
    }

    public double fetchTokensPerSecond() {
        return fetch.tokensPerSecond();
    }

    public double prefillTokensPerSecond() {
        return prefill.tokensPerSecond();
    }

    /** An exponentially weighted tokens-per-second rate; 0 until measured. */
    private static final class Rate {
        private double tokensPerSecond;

        synchronized void add(int tokens, long nanos) {
            if (tokens <= 0 || nanos <= 0) {
                return;
            }
            double sample = tokens * 1e9 / nanos;
            tokensPerSecond = tokensPerSecond == 0 ? sample : WEIGHT * sample + (1 - WEIGHT) * tokensPerSecond;
        }

        synchronized double tokensPerSecond() {
            return tokensPerSecond;
        }
    }
}
