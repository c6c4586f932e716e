package dev.kvshare.model;

/**
 * One sequence's KV inside a cache: a single sequence's {@link KvCache} (row 0 of 1, all of its columns) or
 * one row of a {@link BatchedKv} (its last {@code length} columns).
 */
public record KvRow(KvCache cache, int rows, int row, int length) {

    /** The whole of a single sequence's cache. */
    public static KvRow of(KvCache cache) {
        return new KvRow(cache, 1, 0, cache.length());
    }
}
