package dev.kvshare.promptcache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import dev.kvshare.promptcache.CircuitBreaker.CircuitOpenException;
import dev.kvshare.promptcache.CircuitBreaker.State;
import org.junit.jupiter.api.Test;

class CircuitBreakerTest {

    private static final Duration OPEN_FOR = Duration.ofSeconds(30);

    private final MutableClock clock = new MutableClock();
    private final CircuitBreaker breaker = new CircuitBreaker(3, OPEN_FOR, clock);
    private final AtomicInteger calls = new AtomicInteger();

    @Test
    void opensAfterConsecutiveFailuresAndThenRejectsWithoutCalling() {
        fail();
        fail();
        assertThat(breaker.state()).isEqualTo(State.CLOSED);
        fail();
        assertThat(breaker.state()).isEqualTo(State.OPEN);

        int before = calls.get();
        assertThatThrownBy(this::succeed).isInstanceOf(CircuitOpenException.class);
        assertThat(calls.get()).as("an open breaker does not call").isEqualTo(before);
    }

    @Test
    void aSuccessResetsTheFailureCount() {
        fail();
        fail();
        succeed();
        fail();
        fail();
        assertThat(breaker.state()).isEqualTo(State.CLOSED);
    }

    @Test
    void halfOpensAfterTheDurationAndClosesOnSuccess() {
        openIt();
        clock.advance(OPEN_FOR.minusMillis(1));
        assertThat(breaker.state()).isEqualTo(State.OPEN);
        clock.advance(Duration.ofMillis(1));
        assertThat(breaker.state()).isEqualTo(State.HALF_OPEN);

        assertThat(succeed()).isEqualTo("ok");
        assertThat(breaker.state()).isEqualTo(State.CLOSED);
        fail();
        assertThat(breaker.state()).as("the failure count starts over").isEqualTo(State.CLOSED);
    }

    @Test
    void aFailedTrialReopensForAnotherFullDuration() {
        openIt();
        clock.advance(OPEN_FOR);
        fail();
        assertThat(breaker.state()).isEqualTo(State.OPEN);
        clock.advance(OPEN_FOR.minusMillis(1));
        assertThat(breaker.state()).isEqualTo(State.OPEN);
        clock.advance(Duration.ofMillis(1));
        assertThat(breaker.state()).isEqualTo(State.HALF_OPEN);
    }

    @Test
    void halfOpenLetsOneTrialThroughAtATime() throws Exception {
        openIt();
        clock.advance(OPEN_FOR);
        CountDownLatch trialStarted = new CountDownLatch(1);
        CountDownLatch finishTrial = new CountDownLatch(1);
        Thread trial = new Thread(() -> breaker.run(() -> {
            trialStarted.countDown();
            await(finishTrial);
        }));
        trial.start();
        trialStarted.await();

        assertThatThrownBy(this::succeed).isInstanceOf(CircuitOpenException.class);
        assertThat(breaker.state()).isEqualTo(State.HALF_OPEN);

        finishTrial.countDown();
        trial.join();
        assertThat(breaker.state()).isEqualTo(State.CLOSED);
    }

    @Test
    void theActionsExceptionIsRethrown() {
        IllegalStateException failure = new IllegalStateException("down");
        assertThatThrownBy(() -> breaker.run(() -> {
            throw failure;
        })).isSameAs(failure);
    }

    private void openIt() {
        fail();
        fail();
        fail();
        assertThat(breaker.state()).isEqualTo(State.OPEN);
    }

    private String succeed() {
        return breaker.call(() -> {
            calls.incrementAndGet();
            return "ok";
        });
    }

    private void fail() {
        assertThatThrownBy(() -> breaker.run(() -> {
            calls.incrementAndGet();
            throw new RedisTierException("down", null);
        })).isInstanceOf(RedisTierException.class);
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static final class MutableClock extends Clock {

        private volatile Instant now = Instant.parse("2026-01-01T00:00:00Z");

        void advance(Duration duration) {
            now = now.plus(duration);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }
    }
}
