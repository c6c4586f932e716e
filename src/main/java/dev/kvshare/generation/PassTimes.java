package dev.kvshare.generation;

import java.util.Map;
import java.util.OptionalDouble;
import java.util.TreeMap;

/**
 * What a batched decode pass costs by its number of rows, learnt from the passes the scheduler ran: a moving
 * average per row count that follows faster passes quickly and slower ones slowly. A pass is never faster than
 * its work, but often slower when the machine's cores are shared (other processes, the JVM's own threads, a
 * GC): the lower part of the passes' times is what the rows cost, the rest is contention that more or fewer
 * rows would not change. It tells the {@link BatchPolicy} whether a client's extra rows slow its neighbours'
 * passes, which depends on the model and the machine (on a small CPU model a pass is nearly linear in its rows;
 * on a large memory-bound one, or a GPU, extra rows are nearly free), so it is measured, not configured.
 * Fed by the scheduler thread, read under the scheduler's lock.
 */
final class PassTimes {

    /** Weight of a pass faster than its row count's average. */
    private static final double FASTER = 0.25;
    /** Weight of a slower pass: a row count that became dearer (longer rows) shows within about 50 passes. */
    private static final double SLOWER = 0.02;

    private final TreeMap<Integer, Double> averageNanos = new TreeMap<>();

    /** A decode pass of {@code rows} rows took {@code nanos}. */
    synchronized void ran(int rows, long nanos) {
        averageNanos.merge(rows, (double) nanos,
                (average, pass) -> average + (pass < average ? FASTER : SLOWER) * (pass - average));
    }

    /**
     * The expected time of a pass of {@code rows} rows: its average if such passes ran; else interpolated between
     * the nearest row counts that ran on either side; else, beyond them, proportional to the nearest (rows
     * are assumed to cost what they cost there, the cautious guess); none while no pass ran.
     */
    synchronized OptionalDouble predict(int rows) {
        Double exact = averageNanos.get(rows);
        if (exact != null) {
            return OptionalDouble.of(exact);
        }
        Map.Entry<Integer, Double> below = averageNanos.lowerEntry(rows);
        Map.Entry<Integer, Double> above = averageNanos.higherEntry(rows);
        if (below != null && above != null) {
            double share = (double) (rows - below.getKey()) / (above.getKey() - below.getKey());
            return OptionalDouble.of(below.getValue() + share * (above.getValue() - below.getValue()));
        }
        Map.Entry<Integer, Double> nearest = below != null ? below : above;
        return nearest == null ? OptionalDouble.empty()
                : OptionalDouble.of(nearest.getValue() * rows / nearest.getKey());
    }

    /**
     * Whether a pass of {@code rows} rows is expected to take at most {@code factor} times one of
     * {@code fewerRows}; true while either cannot be predicted (nothing ran yet: nothing to hold back for).
     */
    boolean withinFactor(int rows, int fewerRows, double factor) {
        OptionalDouble more = predict(rows);
        OptionalDouble fewer = predict(fewerRows);
        return more.isEmpty() || fewer.isEmpty() || more.getAsDouble() <= factor * fewer.getAsDouble();
    }
}
