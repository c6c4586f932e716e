package dev.kvshare.promptcache;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The in-process tier: decoded blocks, bounded by bytes ({@code kvshare.prompt-cache.local.max-bytes}).
 *
 * <p>A segmented LRU. A new block is always admitted, into the <em>probation</em> segment; a block read
 * again moves to the <em>protected</em> segment, which may hold at most {@value #PROTECTED_SHARE} of the
 * bound (its least recently used blocks fall back to probation). Eviction takes probation's least recently
 * used block first. So what was just computed — the conversation whose next turn comes in seconds — is
 * always kept, and a shared system prompt, read by every request, stays protected while a flood of one-off
 * prompts passes through probation. (Caffeine's W-TinyLFU, used before, refused a new block whose estimated
 * frequency did not beat its victim's: a full tier stopped keeping the newest conversation.)
 *
 * <p>Thread-safe (one lock; every operation is a few map updates); returned blocks may be shared by
 * concurrent requests ({@link KvBlock} is read-only).
 */
public final class LocalKvStore {

    /** Charged per entry on top of the payload: the key, the record, token ids and the map's node. */
    static final int ENTRY_OVERHEAD_BYTES = 512;
    /** The share of the bound that blocks read more than once may hold. */
    static final double PROTECTED_SHARE = 0.8;

    private final long maxBytes;
    private final long protectedMaxBytes;
    private final Consumer<KvBlock> removed;
    // Each in recency order: least recently used first.
    private final Segment probation = new Segment();
    private final Segment protectedBlocks = new Segment();
    private long hits;
    private long misses;
    private long evictions;

    public LocalKvStore(long maxBytes) {
        this(maxBytes, block -> { });
    }

    /**
     * @param removed told of every block that leaves the tier (not of one replaced by an equal block); called
     *                under the tier's lock, so it must return at once
     */
    public LocalKvStore(long maxBytes, Consumer<KvBlock> removed) {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("max bytes must not be negative: " + maxBytes);
        }
        this.maxBytes = maxBytes;
        this.protectedMaxBytes = (long) (maxBytes * PROTECTED_SHARE);
        this.removed = removed;
    }

    /** The block, if held; a hit makes it the most recently used and protects it. */
    public synchronized Optional<KvBlock> get(BlockHash hash) {
        KvBlock block = take(hash);
        if (block == null) {
            misses++;
            return Optional.empty();
        }
        hits++;
        protect(hash, block);
        return Optional.of(block);
    }

    /**
     * The held blocks of {@code chain} from index {@code from} up to the first one missing (a chain is useful
     * only up to its first gap). They are touched deepest first, so that the chain's head ends up the most
     * recently used and eviction takes the chain's tail before its head.
     */
    public synchronized List<KvBlock> leading(List<BlockHash> chain, int from) {
        List<KvBlock> found = new ArrayList<>();
        for (int i = from; i < chain.size(); i++) {
            KvBlock block = take(chain.get(i));
            if (block == null) {
                misses++;
                break;
            }
            found.add(block);
        }
        hits += found.size();
        for (int i = found.size() - 1; i >= 0; i--) {
            protect(found.get(i).hash(), found.get(i));
        }
        return found;
    }

    private KvBlock take(BlockHash hash) {
        KvBlock block = probation.remove(hash);
        return block != null ? block : protectedBlocks.remove(hash);
    }

    private void protect(BlockHash hash, KvBlock block) {
        protectedBlocks.add(hash, block);
        while (protectedBlocks.bytes > protectedMaxBytes) {
            Map.Entry<BlockHash, KvBlock> eldest = protectedBlocks.removeEldest();
            probation.add(eldest.getKey(), eldest.getValue());
        }
    }

    /** Whether the block is held, without counting a hit or a miss or refreshing its recency. */
    public synchronized boolean contains(BlockHash hash) {
        return probation.blocks.containsKey(hash) || protectedBlocks.blocks.containsKey(hash);
    }

    /**
     * Whether the block is held with exactly these token ids (a partial block's key does not name its tokens),
     * without counting a hit or a miss or refreshing its recency.
     */
    public synchronized boolean holds(BlockHash hash, int[] tokenIds) {
        KvBlock block = probation.blocks.get(hash);
        if (block == null) {
            block = protectedBlocks.blocks.get(hash);
        }
        return block != null && block.hasTokens(tokenIds);
    }

    /**
     * Keeps {@code block} as the most recently used, evicting the least recently used blocks (probation first,
     * never this one) as the bound requires. A block larger than the whole tier is not kept.
     */
    public synchronized void put(KvBlock block) {
        BlockHash hash = block.hash();
        KvBlock held = protectedBlocks.remove(hash);
        boolean wasProtected = held != null;
        if (!wasProtected) {
            held = probation.remove(hash);
        }
        if (weight(block) > maxBytes) {
            if (held != null) {
                removed.accept(held);
            }
            return;
        }
        (wasProtected ? protectedBlocks : probation).add(hash, block);
        while (probation.bytes + protectedBlocks.bytes > maxBytes) {
            boolean probationHasOlder = probation.blocks.size() > (wasProtected ? 0 : 1);
            removed.accept((probationHasOlder ? probation : protectedBlocks).removeEldest().getValue());
            evictions++;
        }
    }

    /** Puts a chain's consecutive blocks deepest first, so that under pressure its tail goes before its head. */
    public synchronized void putChain(List<KvBlock> blocks) {
        for (int i = blocks.size() - 1; i >= 0; i--) {
            put(blocks.get(i));
        }
    }

    public synchronized void invalidateAll() {
        probation.blocks.values().forEach(removed);
        protectedBlocks.blocks.values().forEach(removed);
        probation.clear();
        protectedBlocks.clear();
    }

    public synchronized Stats stats() {
        return new Stats(probation.blocks.size() + protectedBlocks.blocks.size(),
                probation.bytes + protectedBlocks.bytes, hits, misses, evictions);
    }

    static long weight(KvBlock block) {
        return (long) block.payloadLength() + 4L * block.tokenIds().length + ENTRY_OVERHEAD_BYTES;
    }

    /** Blocks in recency order with their total weight. */
    private static final class Segment {

        final LinkedHashMap<BlockHash, KvBlock> blocks = new LinkedHashMap<>();
        long bytes;

        void add(BlockHash hash, KvBlock block) {
            blocks.put(hash, block);
            bytes += weight(block);
        }

        KvBlock remove(BlockHash hash) {
            KvBlock block = blocks.remove(hash);
            if (block != null) {
                bytes -= weight(block);
            }
            return block;
        }

        Map.Entry<BlockHash, KvBlock> removeEldest() {
            Iterator<Map.Entry<BlockHash, KvBlock>> entries = blocks.entrySet().iterator();
            Map.Entry<BlockHash, KvBlock> eldest = entries.next();
            Map.Entry<BlockHash, KvBlock> removed = Map.entry(eldest.getKey(), eldest.getValue());
            entries.remove();
            bytes -= weight(removed.getValue());
            return removed;
        }

        void clear() {
            blocks.clear();
            bytes = 0;
        }
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
