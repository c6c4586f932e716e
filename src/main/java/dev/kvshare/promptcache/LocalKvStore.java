package dev.kvshare.promptcache;

import java.util.Optional;
import java.util.function.Consumer;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import com.github.benmanes.caffeine.cache.stats.CacheStats;

/**
 * The in-process tier: decoded blocks, bounded by bytes ({@code kvshare.prompt-cache.local.max-bytes}).
 *
 * <p>Eviction is Caffeine's W-TinyLFU rather than strict LRU: it also weighs how often a block was
 * used, which keeps hot system-prompt prefixes resident while one-off prompts pass through. It may
 * therefore decline to keep a freshly put block when the tier is full of more popular ones.
 * Thread-safe; returned blocks may be shared by concurrent requests ({@link KvBlock} is read-only).
 */
public final class LocalKvStore {

    /** Charged per entry on top of the payload: the key, the record, token ids and Caffeine's node. */
    static final int ENTRY_OVERHEAD_BYTES = 512;

    private final Cache<BlockHash, KvBlock> cache;

    public LocalKvStore(long maxBytes) {
        this(maxBytes, hash -> { });
    }

    /** @param removed told of every block that leaves the tier (not of one replaced by an equal block) */
    public LocalKvStore(long maxBytes, Consumer<BlockHash> removed) {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("max bytes must not be negative: " + maxBytes);
        }
        this.cache = Caffeine.newBuilder()
                .maximumWeight(maxBytes)
                .weigher((BlockHash hash, KvBlock block) -> weight(block))
                // Maintenance (eviction) on the calling thread: the byte bound holds when put returns.
                .executor(Runnable::run)
                .removalListener((BlockHash hash, KvBlock block, RemovalCause cause) -> {
                    if (cause != RemovalCause.REPLACED) {
                        removed.accept(hash);
                    }
                })
                .recordStats()
                .build();
    }

    public Optional<KvBlock> get(BlockHash hash) {
        return Optional.ofNullable(cache.getIfPresent(hash));
    }

    /** Whether the block is held, without counting a hit or a miss or refreshing its recency. */
    public boolean contains(BlockHash hash) {
        return cache.policy().getIfPresentQuietly(hash) != null;
    }

    public void put(KvBlock block) {
        cache.put(block.hash(), block);
    }

    public void invalidateAll() {
        cache.invalidateAll();
    }

    public Stats stats() {
        cache.cleanUp();
        CacheStats stats = cache.stats();
        long bytes = cache.policy().eviction().orElseThrow().weightedSize().orElse(0);
        return new Stats(cache.estimatedSize(), bytes, stats.hitCount(), stats.missCount(), stats.evictionCount());
    }

    private static int weight(KvBlock block) {
        long bytes = (long) block.payloadLength() + 4L * block.tokenIds().length + ENTRY_OVERHEAD_BYTES;
        return (int) Math.min(Integer.MAX_VALUE, bytes);
    }

    /**
     * @param bytes the weighted size: payloads plus the per-entry overhead
     * @param evictions entries dropped for size (not invalidations)
     */
    public record Stats(long entries, long bytes, long hits, long misses, long evictions) {

        /** Hits per read; 0 before any read. */
        public double hitRatio() {
            return hits + misses == 0 ? 0 : (double) hits / (hits + misses);
        }
    }
}
