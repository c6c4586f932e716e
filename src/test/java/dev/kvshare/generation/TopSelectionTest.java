package dev.kvshare.generation;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;

import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

/** The selection equals what sorting all weights (descending, lower id first on a tie) would give. */
class TopSelectionTest {

    private final Random random = new Random(7);

    @RepeatedTest(50)
    void topKAndNucleusMatchAFullSort() {
        int n = 1 + random.nextInt(3000);
        double[] weights = new double[n];
        for (int i = 0; i < n; i++) {
            // Many ties on purpose: weights from a small set of values, sometimes all equal.
            weights[i] = random.nextInt(4) == 0 ? 0.5 : Math.exp(-random.nextInt(20) / 3.0);
        }
        int[] all = IntStream.range(0, n).toArray();
        Integer[] sorted = IntStream.range(0, n).boxed().sorted(Comparator
                .comparingDouble((Integer i) -> -weights[i]).thenComparingInt(i -> i)).toArray(Integer[]::new);

        int k = 1 + random.nextInt(n);
        assertThat(sortedSet(byCount(weights, all, k)))
                .containsExactly(sortedSet(Arrays.stream(sorted).limit(k).mapToInt(Integer::intValue).toArray()));

        double total = Arrays.stream(weights).sum();
        double mass = total * (0.05 + 0.9 * random.nextDouble());
        int prefix = 0;
        for (double cumulative = 0; cumulative < mass; prefix++) {
            cumulative += weights[sorted[prefix]];
        }
        assertThat(sortedSet(byMass(weights, all, mass)))
                .containsExactly(sortedSet(Arrays.stream(sorted).limit(prefix).mapToInt(Integer::intValue).toArray()));
    }

    @Test
    void moreThanThereAreGivesAll() {
        double[] weights = {0.1, 0.2};
        assertThat(sortedSet(byCount(weights, new int[] {0, 1}, 5))).containsExactly(0, 1);
        assertThat(sortedSet(byMass(weights, new int[] {0, 1}, 0.3))).containsExactly(0, 1);
    }

    /** The selection of the first {@code k} heaviest, made on a copy of {@code ids}. */
    private static int[] byCount(double[] weights, int[] ids, int k) {
        int[] copy = ids.clone();
        return Arrays.copyOf(copy, TopSelection.byCountInPlace(weights, copy, copy.length, k));
    }

    /** The nucleus of {@code mass}, made on a copy of {@code ids}. */
    private static int[] byMass(double[] weights, int[] ids, double mass) {
        int[] copy = ids.clone();
        return Arrays.copyOf(copy, TopSelection.byMassInPlace(weights, copy, copy.length, mass));
    }

    private static int[] sortedSet(int[] ids) {
        int[] copy = ids.clone();
        Arrays.sort(copy);
        return copy;
    }
}
