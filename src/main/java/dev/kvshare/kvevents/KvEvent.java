package dev.kvshare.kvevents;

/** One of vLLM's KV cache events; block hashes are 64-bit (see {@link BlockHashes}). */
public sealed interface KvEvent {

    /**
     * Consecutive full blocks of one prompt entered the cache.
     *
     * @param parentBlockHash the block before the first, null when the first is the prompt's first block
     * @param tokenIds        the blocks' tokens, {@code blockSize} per block
     */
    record BlockStored(long[] blockHashes, Long parentBlockHash, int[] tokenIds, int blockSize, String medium)
            implements KvEvent {
    }

    /** Blocks left the cache. */
    record BlockRemoved(long[] blockHashes, String medium) implements KvEvent {
    }

    /** Everything the cache held is gone (sent at start: a restarted replica holds nothing). */
    record AllBlocksCleared() implements KvEvent {
    }
}
