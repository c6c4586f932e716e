package dev.kvshare.promptcache;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;

import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

class FetchOrComputeTest {

    private final AtomicLong now = new AtomicLong();
    private final FetchOrCompute decision = new FetchOrCompute(now::get);

    private void warm() {
        decision.fetched(1, 1); // the first fetch pays for connecting and is not a sample
    }

    @Test
    void fetchesUntilBothRatesAreKnown() {
        assertThat(decision.shouldFetch()).isTrue();
        decision.prefilled(1000, 1_000_000_000L);
        assertThat(decision.shouldFetch()).isTrue();
    }

    @Test
    void fetchesWhileFetchingIsFasterThanPrefilling() {
        warm();
        decision.prefilled(1000, 1_000_000_000L);   // 1,000 tokens/s
        decision.fetched(1000, 100_000_000L);       // 10,000 tokens/s
        assertThat(IntStream.range(0, 50).allMatch(i -> decision.shouldFetch())).isTrue();
        assertThat(decision.fetchTokensPerSecond()).isEqualTo(10_000, Offset.offset(1e-6));
    }

    @Test
    void skipsRedisWhenPrefillIsFasterButStillProbesIt() {
        warm();
        decision.prefilled(10_000, 100_000_000L);   // 100,000 tokens/s: a fast GPU
        decision.fetched(1000, 1_000_000_000L);     // 1,000 tokens/s: a slow network
        long fetches = IntStream.range(0, 160).filter(i -> decision.shouldFetch()).count();
        assertThat(fetches).isEqualTo(160 / FetchOrCompute.PROBE_EVERY);
        assertThat(decision.state()).isEqualTo(FetchOrCompute.State.SKIPPING);
        assertThat(decision.describe()).startsWith("skipping: Redis restores 1000 tokens/s");
    }

    @Test
    void aSlowFirstFetchIsTheConnectionsSetUpNotTheRate() {
        decision.prefilled(1305, 1_000_000_000L);
        decision.fetched(384, 2_200_000_000L);      // 175 tokens/s, of which 2 s were connecting

        assertThat(decision.state()).isEqualTo(FetchOrCompute.State.FETCHING);
        assertThat(decision.shouldFetch()).isTrue();
    }

    @Test
    void whileSkippingRedisIsProbedAtLeastEveryFewSecondsAndAFastAnswerTurnsFetchingBackOn() {
        warm();
        decision.prefilled(10_000, 100_000_000L);
        decision.fetched(100, 1_000_000_000L);
        assertThat(decision.shouldFetch()).isFalse();

        now.addAndGet(FetchOrCompute.PROBE_INTERVAL.toNanos() + 1);
        assertThat(decision.shouldFetch()).as("probe after the interval").isTrue();
        decision.fetched(100_000, 100_000_000L);    // Redis recovered: 1M tokens/s

        assertThat(decision.state()).isEqualTo(FetchOrCompute.State.FETCHING);
    }

    @Test
    void anOldFetchRateIsForgotten() {
        warm();
        decision.prefilled(10_000, 100_000_000L);
        decision.fetched(100, 1_000_000_000L);
        assertThat(decision.state()).isEqualTo(FetchOrCompute.State.SKIPPING);

        now.addAndGet(FetchOrCompute.STALE_AFTER.toNanos() + 1);

        assertThat(decision.state()).isEqualTo(FetchOrCompute.State.FETCHING);
    }

    @Test
    void ratesAreSmoothedNotReplaced() {
        decision.prefilled(1000, 1_000_000_000L);
        decision.prefilled(3000, 1_000_000_000L);
        assertThat(decision.prefillTokensPerSecond()).isBetween(1000.0, 3000.0);
    }
}
