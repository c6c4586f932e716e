package dev.kvshare.promptcache;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

class FetchOrComputeTest {

    @Test
    void fetchesUntilBothRatesAreKnown() {
        FetchOrCompute decision = new FetchOrCompute();
        assertThat(decision.shouldFetch()).isTrue();
        decision.prefilled(1000, 1_000_000_000L);
        assertThat(decision.shouldFetch()).isTrue();
    }

    @Test
    void fetchesWhileFetchingIsFasterThanPrefilling() {
        FetchOrCompute decision = new FetchOrCompute();
        decision.prefilled(1000, 1_000_000_000L);   // 1,000 tokens/s
        decision.fetched(1000, 100_000_000L);       // 10,000 tokens/s
        assertThat(IntStream.range(0, 50).allMatch(i -> decision.shouldFetch())).isTrue();
        assertThat(decision.fetchTokensPerSecond()).isEqualTo(10_000, org.assertj.core.data.Offset.offset(1e-6));
    }

    @Test
    void skipsRedisWhenPrefillIsFasterButStillProbesIt() {
        FetchOrCompute decision = new FetchOrCompute();
        decision.prefilled(10_000, 100_000_000L);   // 100,000 tokens/s: a fast GPU
        decision.fetched(1000, 1_000_000_000L);     // 1,000 tokens/s: a slow network
        long fetches = IntStream.range(0, 160).filter(i -> decision.shouldFetch()).count();
        assertThat(fetches).isEqualTo(160 / FetchOrCompute.PROBE_EVERY);
    }

    @Test
    void ratesAreSmoothedNotReplaced() {
        FetchOrCompute decision = new FetchOrCompute();
        decision.prefilled(1000, 1_000_000_000L);
        decision.prefilled(3000, 1_000_000_000L);
        assertThat(decision.prefillTokensPerSecond()).isBetween(1000.0, 3000.0);
    }
}
