package dev.kvshare.generation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.OptionalLong;
import java.util.Set;
import java.util.stream.IntStream;

import dev.kvshare.constrain.TokenConstraint;
import dev.kvshare.model.Logits;
import org.junit.jupiter.api.Test;

class SamplerTest {

    private static SamplingParams params(double temperature, int topK, double topP, long seed) {
        return new SamplingParams(temperature, topK, topP, 0, 0, OptionalLong.of(seed));
    }

    @Test
    void greedyTakesTheLargestLogitAndTheLowestIdOnATie() {
        assertThat(new Sampler(SamplingParams.GREEDY).next(new float[] {0.1f, 3f, -2f, 3f})).isEqualTo(1);
        assertThat(Logits.argmax(new float[] {-5f, -1f, -1f})).isEqualTo(1);
    }

    /** Turns tokens down only once they are drawn, as a token budget does with a token that opens too much. */
    private static TokenConstraint refusingWhenDrawn(Set<Integer> refused) {
        return new TokenConstraint() {
            @Override
            public void mask(float[] logits) {
            }

            @Override
            public boolean allows(int token) {
                return !refused.contains(token);
            }

            @Override
            public void accept(int token) {
            }

            @Override
            public boolean complete() {
                return false;
            }

            @Override
            public boolean cutShort() {
                return false;
            }
        };
    }

    @Test
    void aTokenTurnedDownOnceDrawnIsReplacedByADrawAmongTheRest() {
        float[] logits = {0f, 5f, 1f, 9f, 2f};
        TokenConstraint constraint = refusingWhenDrawn(Set.of(1, 3));
        assertThat(new Sampler(SamplingParams.GREEDY, constraint).next(logits.clone())).isEqualTo(4);
        Set<Integer> drawn = new HashSet<>();
        for (long seed = 0; seed < 200; seed++) {
            drawn.add(new Sampler(params(1.5, 0, 1.0, seed), constraint).next(logits.clone()));
        }
        assertThat(drawn).containsExactlyInAnyOrder(0, 2, 4);
        assertThatThrownBy(() -> new Sampler(SamplingParams.GREEDY, refusingWhenDrawn(Set.of(0, 1, 2, 3, 4)))
                .next(logits.clone())).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void topKOfOneIsGreedyWhateverTheTemperature() {
        Sampler sampler = new Sampler(params(2.0, 1, 1.0, 3));
        for (int i = 0; i < 20; i++) {
            assertThat(sampler.next(new float[] {0f, 1f, 0.9f})).isEqualTo(1);
        }
    }

    @Test
    void topKNeverPicksOutsideTheKBest() {
        Sampler sampler = new Sampler(params(5.0, 2, 1.0, 11));
        float[] logits = {4f, 0f, 3.9f, 0f, 0f};
        Set<Integer> seen = new HashSet<>();
        IntStream.range(0, 300).forEach(i -> seen.add(sampler.next(logits.clone())));
        assertThat(seen).containsExactlyInAnyOrder(0, 2);
    }

    @Test
    void topPKeepsTheSmallestSetReachingP() {
        // Probabilities 0.5, 0.3, 0.2 at temperature 1: top_p 0.7 keeps the first two only.
        float[] logits = {(float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.2)};
        Sampler sampler = new Sampler(params(1.0, 0, 0.7, 5));
        Set<Integer> seen = new HashSet<>();
        IntStream.range(0, 500).forEach(i -> seen.add(sampler.next(logits.clone())));
        assertThat(seen).containsExactlyInAnyOrder(0, 1);
    }

    @Test
    void aNucleusReachingIntoALongFlatTailOfALargeVocabularyIsKept() {
        // One token holds half the mass, 150,000 others share the rest: top_p 0.9 must reach into the tail.
        float[] logits = new float[150_001];
        logits[0] = (float) Math.log(150_000);
        Sampler sampler = new Sampler(params(1.0, 0, 0.9, 17));
        long tail = IntStream.range(0, 400).filter(i -> sampler.next(logits.clone()) != 0).count();
        assertThat(tail / 400.0).isBetween(0.35, 0.55);
    }

    @Test
    void samplingFollowsTheSoftmaxDistribution() {
        float[] logits = {0f, (float) Math.log(3)};
        Sampler sampler = new Sampler(params(1.0, 0, 1.0, 42));
        long ones = IntStream.range(0, 20_000).filter(i -> sampler.next(logits.clone()) == 1).count();
        assertThat(ones / 20_000.0).isBetween(0.72, 0.78);
    }

    @Test
    void theSameSeedGivesTheSameSequence() {
        float[] logits = new float[50];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) Math.sin(i);
        }
        int[] first = draw(new Sampler(params(1.0, 0, 0.95, 9)), logits);
        assertThat(draw(new Sampler(params(1.0, 0, 0.95, 9)), logits)).containsExactly(first);
        assertThat(draw(new Sampler(params(1.0, 0, 0.95, 10)), logits)).isNotEqualTo(first);
    }

    @Test
    void frequencyPenaltyStopsRepeatingAToken() {
        Sampler sampler = new Sampler(new SamplingParams(0, 0, 1, 0, 1.5, OptionalLong.empty()));
        assertThat(sampler.next(new float[] {2f, 1f})).isZero();
        assertThat(sampler.next(new float[] {2f, 1f})).isEqualTo(1);
    }

    @Test
    void invalidParametersAreRefused() {
        assertThatThrownBy(() -> new SamplingParams(-1, 0, 1, 0, 0, OptionalLong.empty()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new SamplingParams(1, 0, 0, 0, 0, OptionalLong.empty()))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /** Only a sampler that needs nothing but the logits may be run by the batch scheduler's thread. */
    @Test
    void aSamplerIsPlainWithoutConstraintOrPenalties() {
        assertThat(new Sampler(SamplingParams.GREEDY).plain()).isTrue();
        assertThat(new Sampler(params(0.7, 40, 0.9, 1)).plain()).isTrue();
        assertThat(new Sampler(SamplingParams.GREEDY, refusingWhenDrawn(Set.of(1))).plain()).isFalse();
        assertThat(new Sampler(new SamplingParams(0.7, 0, 1, 0.5, 0, OptionalLong.empty())).plain()).isFalse();
        assertThat(new Sampler(new SamplingParams(0.7, 0, 1, 0, 0.5, OptionalLong.empty())).plain()).isFalse();
    }

    private static int[] draw(Sampler sampler, float[] logits) {
        return IntStream.range(0, 40).map(i -> sampler.next(logits.clone())).toArray();
    }
}
