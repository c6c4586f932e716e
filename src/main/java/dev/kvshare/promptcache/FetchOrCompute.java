package dev.kvshare.promptcache;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Decides whether fetching KV from Redis beats computing it. A remote hit only wins when the fetch is
 * faster than prefilling the same tokens — on a fast GPU behind a slow network it may not be. Both rates
 * are measured as the service runs (exponentially weighted, tokens per second).
 *
 * <p>A wrong "skip" must not last: it would quietly turn sharing off for good, because skipping produces no
 * new fetch measurements. So the first fetch is not a sample (it pays for the connection's set-up), a fetch
 * rate older than {@link #STALE_AFTER} counts as unknown, and while skipping, one lookup in
 * {@value #PROBE_EVERY} and at least one every {@link #PROBE_INTERVAL} still asks Redis.
 */
public final class FetchOrCompute {

    static final int PROBE_EVERY = 16;
    static final Duration PROBE_INTERVAL = Duration.ofSeconds(5);
    static final Duration STALE_AFTER = Duration.ofMinutes(1);
    private static final double WEIGHT = 0.2;

    private final LongSupplier nanoClock;
    private final Rate fetch = new Rate();
    private final Rate prefill = new Rate();
    private final AtomicLong decisions = new AtomicLong();
    private volatile boolean connectionWarm;
    private volatile long lastFetchNanos;
    private volatile long lastProbeNanos;

    public FetchOrCompute() {
        this(System::nanoTime);
    }

    FetchOrCompute(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
        this.lastProbeNanos = nanoClock.getAsLong();
    }

    /** A fetch that found {@code tokens} tokens' KV in {@code nanos}. */
    public void fetched(int tokens, long nanos) {
        if (!connectionWarm) {
            connectionWarm = true; // the first one also paid for connecting: not a measure of the rate
            return;
        }
        fetch.add(tokens, nanos);
        lastFetchNanos = nanoClock.getAsLong();
    }

    public void prefilled(int tokens, long nanos) {
        prefill.add(tokens, nanos);
    }

    /** Whether to ask Redis now. */
    public boolean shouldFetch() {
        if (state() != State.SKIPPING) {
            return true;
        }
        long now = nanoClock.getAsLong();
        if (decisions.incrementAndGet() % PROBE_EVERY == 0 || now - lastProbeNanos > PROBE_INTERVAL.toNanos()) {
            lastProbeNanos = now;
            return true;
        }
        return false;
    }

    /** {@code FETCHING} until measurements say Redis is slower than prefill; then {@code SKIPPING}. */
    public State state() {
        double fetchRate = fetchTokensPerSecond();
        double prefillRate = prefill.tokensPerSecond();
        return fetchRate == 0 || prefillRate == 0 || fetchRate > prefillRate ? State.FETCHING : State.SKIPPING;
    }

    /** The measured Redis restore rate; 0 while unknown or stale. */
    public double fetchTokensPerSecond() {
        boolean stale = nanoClock.getAsLong() - lastFetchNanos > STALE_AFTER.toNanos();
        return stale ? 0 : fetch.tokensPerSecond();
    }

    public double prefillTokensPerSecond() {
        return prefill.tokensPerSecond();
    }

    /** What the gate does with the Redis tier now, and why (for health details). */
    public String describe() {
        return state() == State.FETCHING ? "fetching"
                : String.format("skipping: Redis restores %.0f tokens/s, prefill computes %.0f tokens/s; "
                        + "probing Redis every %d lookups or %d s", fetchTokensPerSecond(),
                        prefillTokensPerSecond(), PROBE_EVERY, PROBE_INTERVAL.toSeconds());
    }

    public enum State { FETCHING, SKIPPING }

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
