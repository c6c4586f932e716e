package dev.kvshare.generation;

import java.util.Arrays;

/**
 * Picks the most likely tokens without sorting the vocabulary: the k heaviest (top-k), or the smallest
 * set of heaviest tokens whose weights reach a mass (the top-p nucleus). A quickselect-style three-way
 * partition does it in expected linear time; sorting 150k weights per generated token would cost
 * milliseconds. Ties go to the lower token id, as a sort would have it. The result is deterministic (the
 * pivot is the middle element), so seeded sampling stays reproducible.
 */
final class TopSelection {

    private TopSelection() {
    }

    /**
     * Moves the {@code k} heaviest of the first {@code n} of {@code ids} (all of them when there are fewer) to
     * their front, in no particular order, and returns how many that is. In place: a sampler calls it for every
     * token, and a copy of the candidates would be its garbage.
     */
    static int byCountInPlace(double[] weights, int[] ids, int n, int k) {
        return select(weights, ids, n, k, false);
    }

    /**
     * Moves the fewest heaviest of the first {@code n} of {@code ids} whose weights sum to at least {@code mass}
     * to their front, in no particular order, and returns how many that is; in place as {@link #byCountInPlace}.
     */
    static int byMassInPlace(double[] weights, int[] ids, int n, double mass) {
        return select(weights, ids, n, mass, true);
    }

    /**
     * Moves the selection among {@code a[0, n)} to the front of {@code a} and returns its size. Invariant:
     * {@code a[0, lo)} is selected, {@code a[hi, n)} is not, and {@code need} is what {@code a[lo, hi)} must
     * still contribute.
     */
    private static int select(double[] w, int[] a, int n, double need, boolean byMass) {
        int lo = 0;
        int hi = n;
        while (lo < hi && need > 0) {
            double pivot = w[a[lo + (hi - lo) / 2]];
            int gt = lo;
            int i = lo;
            int lt = hi;
            while (i < lt) {
                double x = w[a[i]];
                if (x > pivot) {
                    swap(a, gt++, i++);
                } else if (x < pivot) {
                    swap(a, i, --lt);
                } else {
                    i++;
                }
            }
            double greater = amount(w, a, lo, gt, byMass);
            if (greater >= need) {
                hi = gt;
                continue;
            }
            double equal = amount(w, a, gt, lt, byMass);
            if (greater + equal >= need) {
                Arrays.sort(a, gt, lt);
                int end = gt;
                for (double taken = greater; taken < need && end < lt; end++) {
                    taken += byMass ? w[a[end]] : 1;
                }
                return end;
            }
            need -= greater + equal;
            lo = lt;
        }
        return lo;
    }

    private static double amount(double[] w, int[] a, int from, int to, boolean byMass) {
        if (!byMass) {
            return to - from;
        }
        double mass = 0;
        for (int i = from; i < to; i++) {
            mass += w[a[i]];
        }
        return mass;
    }

    private static void swap(int[] a, int i, int j) {
        int t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}
