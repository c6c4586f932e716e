package dev.kvshare.model;

import java.util.Arrays;

/**
 * The past KV of several sequences advanced together: one tensor per past input, {@code [rows, ..., width,
 * head_dim]}, each row left-padded to the width (see {@link StepInputs}). A batched pass returns a new one,
 * one column wider, whose tensors are that pass's present outputs; it is the caller's to close, like a
 * {@link KvCache}, whose closed-guard and leases it uses.
 */
public final class BatchedKv implements AutoCloseable {

    private final KvCache cache;
    private final int[] lengths;

    BatchedKv(KvCache cache, int[] lengths) {
        this.cache = cache;
        this.lengths = lengths.clone();
    }

    KvCache cache() {
        return cache;
    }

    public int rows() {
        return lengths.length;
    }

    /** Columns of every row: the longest row's length. */
    public int width() {
        return cache.length();
    }

    int[] lengths() {
        return lengths.clone();
    }

    /** The share of the past's columns that are padding: the attention a pass spends on nothing. */
    public double paddingShare() {
        long cells = (long) rows() * width();
        return cells == 0 ? 0 : 1 - (double) Arrays.stream(lengths).asLongStream().sum() / cells;
    }

    /** Row {@code row} as a source for {@link DecoderModel#pack}. */
    public KvRow row(int row) {
        return new KvRow(cache, rows(), row, lengths[row]);
    }

    @Override
    public void close() {
        cache.close();
    }
}
