package dev.kvshare.promptcache;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import dev.kvshare.model.KvBlocks;
import dev.kvshare.model.KvCache;
import dev.kvshare.observability.Spans;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The prompt-cache policy. A lookup walks a prompt's block chain — local tier first, then Redis in one
 * round trip for the rest — and stops at the first miss; the last prompt token is never covered, so its
 * logits are always computed. After prefill the request stores the full blocks that were missing: copied
 * out and put locally by the copier thread (never on the thread that runs the model), in Redis in the
 * background. Concurrent requests missing the same prefix compute it once: the
 * first becomes its leader and the others wait for it (single flight), then find it in the local tier.
 */
public final class PromptCache {

    private static final Logger log = LoggerFactory.getLogger(PromptCache.class);

    private final PrefixHasher hasher;
    private final LocalKvStore local;
    private final Optional<RedisTier> redis;
    private final KvBlocks kvBlocks;
    private final FetchOrCompute fetchOrCompute;
    private final PromptCacheMetrics metrics;
    private final Executor copier;
    private final Executor background;
    private final Spans spans;
    private final long singleFlightWaitMillis;
    private final ConcurrentHashMap<BlockHash, CompletableFuture<Void>> inFlight = new ConcurrentHashMap<>();

    public PromptCache(PrefixHasher hasher, LocalKvStore local, Optional<RedisTier> redis, KvBlocks kvBlocks,
                       FetchOrCompute fetchOrCompute, PromptCacheMetrics metrics, Executor copier,
                       Executor background, Spans spans, java.time.Duration singleFlightWait) {
        this.hasher = hasher;
        this.local = local;
        this.redis = redis;
        this.kvBlocks = kvBlocks;
        this.fetchOrCompute = fetchOrCompute;
        this.metrics = metrics;
        this.copier = copier;
        this.background = background;
        this.spans = spans;
        this.singleFlightWaitMillis = singleFlightWait.toMillis();
    }

    public int blockSize() {
        return hasher.blockSize();
    }

    public LocalKvStore.Stats localStats() {
        return local.stats();
    }

    public Optional<RedisTier> redisTier() {
        return redis;
    }

    /** Whether lookups ask Redis now, and why. */
    public FetchOrCompute fetchGate() {
        return fetchOrCompute;
    }

    /** Drops every locally held block (Redis entries expire by their TTL). */
    public void evictLocal() {
        local.invalidateAll();
    }

    /** A prefill measurement, for {@link FetchOrCompute}. */
    public void prefilled(int computedTokens, long nanos) {
        fetchOrCompute.prefilled(computedTokens, nanos);
    }

    /**
     * Where the full blocks of {@code prefix} are held now, read without side effects: no recency, no hit
     * statistics, nothing copied between tiers. For operators (the admin endpoint).
     */
    public Residency residency(int[] prefix, String salt) {
        List<BlockHash> chain = hasher.chain(prefix, salt);
        int localBlocks = 0;
        while (localBlocks < chain.size() && local.contains(chain.get(localBlocks))) {
            localBlocks++;
        }
        String redisState = redis.map(tier -> tier.circuitState().name()).orElse("DISABLED");
        Integer redisBlocks = null;
        if (redis.isPresent()) {
            try {
                redisBlocks = redis.get().leadingPresent(chain);
            } catch (CircuitBreaker.CircuitOpenException e) {
                // Not asked: the state already says OPEN.
            } catch (RuntimeException e) {
                redisState = "UNREACHABLE";
            }
        }
        return new Residency(prefix.length, blockSize(), chain.size(), chain.size() * blockSize(), localBlocks,
                redisBlocks, redisState);
    }

    /**
     * Where a prefix's blocks are.
     *
     * @param blocks          its full blocks: the part that can be cached
     * @param cacheableTokens the tokens of those blocks
     * @param localBlocks     leading blocks held by this replica's local tier
     * @param redisBlocks     leading blocks with an entry in Redis; null when Redis is off or did not answer
     * @param redis           the Redis tier's circuit state, {@code DISABLED} or {@code UNREACHABLE}
     */
    public record Residency(int tokens, int blockSize, int blocks, int cacheableTokens, int localBlocks,
                            Integer redisBlocks, String redis) {
    }

    /** Finds the longest cached prefix of {@code prompt}; the caller must close the result. */
    public Lookup lookup(int[] prompt, String salt) {
        List<BlockHash> chain = hasher.chain(Arrays.copyOf(prompt, prompt.length - 1), salt);
        BlockHash seed = hasher.seed(salt);
        List<KvBlock> found = new ArrayList<>();
        int localHits = spans.blocks("kvshare.prompt_cache.local", () -> findLocal(chain, found));
        Lookup lookup = new Lookup(prompt, chain, seed);
        if (found.size() < chain.size()) {
            // Claiming and checking are one atomic step, so two requests never both become the leader.
            CompletableFuture<Void> leader = lookup.claim(chain.get(found.size()));
            if (leader != null && awaitLeader(leader)) {
                localHits += findLocal(chain, found);
                if (found.size() < chain.size()) {
                    lookup.claim(chain.get(found.size()));
                }
            }
        }
        boolean redisAsked = found.size() < chain.size() && redis.isPresent();
        int redisHits = redisAsked
                ? spans.blocks("kvshare.prompt_cache.redis", () -> findRemote(prompt, chain, seed, found)) : 0;
        metrics.lookup("local", localHits > 0 ? "hit" : "miss");
        metrics.looked(prompt.length, localHits * blockSize(), redisAsked, redisHits * blockSize());
        lookup.found(found, localHits, redisHits);
        return lookup;
    }

    private int findLocal(List<BlockHash> chain, List<KvBlock> found) {
        int before = found.size();
        for (int i = found.size(); i < chain.size(); i++) {
            Optional<KvBlock> block = local.get(chain.get(i));
            if (block.isEmpty()) {
                break;
            }
            found.add(block.get());
        }
        return found.size() - before;
    }

    private int findRemote(int[] prompt, List<BlockHash> chain, BlockHash seed, List<KvBlock> found) {
        if (redis.isEmpty()) {
            return 0;
        }
        if (!fetchOrCompute.shouldFetch()) {
            metrics.lookup("redis", "skipped");
            return 0;
        }
        List<RedisTier.Wanted> wanted = new ArrayList<>();
        for (int i = found.size(); i < chain.size(); i++) {
            wanted.add(new RedisTier.Wanted(chain.get(i), i == 0 ? seed : chain.get(i - 1), tokensOf(prompt, i)));
        }
        long start = System.nanoTime();
        List<KvBlock> fetched = redis.get().fetch(wanted);
        if (!fetched.isEmpty()) {
            fetchOrCompute.fetched(fetched.size() * blockSize(), System.nanoTime() - start);
            fetched.forEach(local::put);
        }
        metrics.lookup("redis", fetched.isEmpty() ? "miss" : "hit");
        found.addAll(fetched);
        return fetched.size();
    }

    private boolean awaitLeader(CompletableFuture<Void> leader) {
        try {
            leader.get(singleFlightWaitMillis, TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            log.debug("Gave up waiting for a concurrent request computing the same prefix");
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (Exception e) {
            return false;
        }
    }

    private int[] tokensOf(int[] prompt, int block) {
        return Arrays.copyOfRange(prompt, block * blockSize(), (block + 1) * blockSize());
    }

    /** A lookup's result and the obligation to store what was missing (or release it on close). */
    public final class Lookup implements AutoCloseable {

        private final int[] prompt;
        private final List<BlockHash> chain;
        private final BlockHash seed;
        private List<KvBlock> found = List.of();
        private int localBlocks;
        private int redisBlocks;
        private BlockHash claimed;
        private CompletableFuture<Void> claim;
        private volatile CompletableFuture<Void> pendingStore;

        private Lookup(int[] prompt, List<BlockHash> chain, BlockHash seed) {
            this.prompt = prompt;
            this.chain = chain;
            this.seed = seed;
        }

        private void found(List<KvBlock> blocks, int local, int remote) {
            this.found = List.copyOf(blocks);
            this.localBlocks = local;
            this.redisBlocks = remote;
        }

        /**
         * Becomes the single-flight leader for {@code first}, the first missing block, unless another
         * request already is: then returns that leader's future to wait on.
         */
        private CompletableFuture<Void> claim(BlockHash first) {
            CompletableFuture<Void> mine = new CompletableFuture<>();
            CompletableFuture<Void> leader = inFlight.putIfAbsent(first, mine);
            if (leader == null) {
                claimed = first;
                claim = mine;
            }
            return leader;
        }

        /** Prompt tokens whose KV was found. */
        public int cachedTokens() {
            return found.size() * blockSize();
        }

        public int localTokens() {
            return localBlocks * blockSize();
        }

        public int redisTokens() {
            return redisBlocks * blockSize();
        }

        /** The found prefix as past tensors (the caller owns them), or empty when nothing was found. */
        public Optional<KvCache> restore() {
            if (found.isEmpty()) {
                return Optional.empty();
            }
            List<ByteBuffer> payloads = found.stream().map(KvBlock::payload).toList();
            return Optional.of(kvBlocks.assemble(payloads, blockSize()));
        }

        /**
         * Stores the missing full blocks from {@code cache}, which holds the prefilled prompt. Called on the thread
         * that ran the prefill (the batch scheduler's, for a batched sequence), so it only takes a lease on the
         * cache and returns: the copier thread copies the blocks out and puts them into the local tier, then
         * Redis gets them in the background. Until the local tier has them, lookups of the same prefix wait for
         * this one (single flight) and {@link #close} waits too, so a finished request's blocks are found. When
         * the copier is behind, this prompt's blocks are not stored.
         */
        public void store(KvCache cache) {
            int from = found.size();
            int count = chain.size() - from;
            if (count <= 0) {
                release();
                return;
            }
            KvCache.Lease held = cache.lease();
            CompletableFuture<Void> stored = new CompletableFuture<>();
            try {
                copier.execute(spans.withCurrentSpan(() -> {
                    try (held) {
                        copyOut(held, from, count);
                    } catch (RuntimeException e) {
                        log.warn("Could not store the prompt's KV in the prompt cache", e);
                    } finally {
                        release();
                        stored.complete(null);
                    }
                }));
                pendingStore = stored;
            } catch (RejectedExecutionException behind) {
                held.close();
                release();
                log.debug("The prompt-cache copier is behind: this prompt's blocks are not stored");
            }
        }

        private void copyOut(KvCache.Lease held, int from, int count) {
            List<ByteBuffer> payloads = kvBlocks.copyOut(held, from * blockSize(), blockSize(), count);
            List<KvBlock> blocks = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                int index = from + i;
                blocks.add(new KvBlock(chain.get(index), index == 0 ? seed : chain.get(index - 1),
                        tokensOf(prompt, index), payloads.get(i)));
            }
            blocks.forEach(local::put);
            metrics.stored("local", (long) count * kvBlocks.payloadBytes(blockSize()));
            redis.ifPresent(tier -> background.execute(spans.inBackground("kvshare.prompt_cache.store",
                    () -> tier.store(blocks))));
        }

        private synchronized void release() {
            if (claim != null) {
                inFlight.remove(claimed, claim);
                claim.complete(null);
                claim = null;
            }
        }

        /** Waits (at most the single-flight wait) for a store under way to reach the local tier. */
        @Override
        public void close() {
            if (pendingStore != null) {
                awaitLeader(pendingStore);
            }
            release();
        }
    }
}
