package dev.kvshare.promptcache;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Stops calling a failing dependency for a while (docs/prompt-cache.md, "Failure semantics"): after
 * {@code failureThreshold} consecutive failures it opens and rejects calls at once; after
 * {@code openDuration} it lets a single trial call through (half-open), which closes it on success
 * or reopens it on failure. Thread-safe.
 */
public final class CircuitBreaker {

    public enum State { CLOSED, OPEN, HALF_OPEN }

    private final int failureThreshold;
    private final Duration openDuration;
    private final Clock clock;

    private int consecutiveFailures;
    private Instant openedAt;
    private boolean trialInFlight;

    public CircuitBreaker(int failureThreshold, Duration openDuration, Clock clock) {
        if (failureThreshold < 1) {
            throw new IllegalArgumentException("failure threshold must be positive: " + failureThreshold);
        }
        if (openDuration.isNegative()) {
            throw new IllegalArgumentException("open duration must not be negative: " + openDuration);
        }
        this.failureThreshold = failureThreshold;
        this.openDuration = openDuration;
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * Runs {@code action} unless the breaker is open; any exception it throws counts as a failure and
     * is rethrown.
     *
     * @throws CircuitOpenException without running {@code action}, while open or while another
     *         caller's half-open trial is running
     */
    public <T> T call(Supplier<T> action) {
        boolean trial = acquire();
        boolean succeeded = false;
        try {
            T result = action.get();
            succeeded = true;
            return result;
        } finally {
            record(trial, succeeded);
        }
    }

    public void run(Runnable action) {
        call(() -> {
            action.run();
            return null;
        });
    }

    /** OPEN turns HALF_OPEN once the open duration has passed, even before a call tries it. */
    public synchronized State state() {
        if (openedAt == null) {
            return State.CLOSED;
        }
        return trialInFlight || !clock.instant().isBefore(openedAt.plus(openDuration)) ? State.HALF_OPEN : State.OPEN;
    }

    /** Admits a call or throws; true when the call is the half-open trial. */
    private synchronized boolean acquire() {
        return switch (state()) {
            case CLOSED -> false;
            case HALF_OPEN -> {
                if (trialInFlight) {
                    throw CircuitOpenException.INSTANCE;
                }
                trialInFlight = true;
                yield true;
            }
            case OPEN -> throw CircuitOpenException.INSTANCE;
        };
    }

    /** Calls admitted while closed may finish after it opened: their outcome counts all the same. */
    private synchronized void record(boolean trial, boolean succeeded) {
        if (trial) {
            trialInFlight = false;
        }
        if (succeeded) {
            consecutiveFailures = 0;
            openedAt = null;
        } else if (openedAt != null || ++consecutiveFailures >= failureThreshold) {
            openedAt = clock.instant();
        }
    }

    /** Thrown instead of calling while the breaker is open; stackless, since rejecting must be cheap. */
    public static final class CircuitOpenException extends RuntimeException {

        private static final CircuitOpenException INSTANCE = new CircuitOpenException();

        private CircuitOpenException() {
            super("circuit breaker open", null, false, false);
        }
    }
}
