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
import java.util.function.Supplier;
import java.util.stream.IntStream;

import dev.kvshare.model.TokenRange;
import dev.kvshare.observability.Spans;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The prompt-cache policy. A lookup walks a prompt's block chain — local tier first, then Redis in one
 * round trip for the rest — and stops at the first miss; the last prompt token is never covered, so its
 * logits are always computed; the local tier's partial block after the last full block found is used as far
 * as its tokens match. After prefill the request stores the full blocks that were missing: copied out and put
 * locally by the copier thread (never on the thread that runs the model), in Redis in the background; when it
 * finishes, the blocks of its reply and its partial tails ({@link Lookup#storeSequence}). Concurrent requests
 * missing the same prefix compute it once: the
 * first becomes its leader and the others wait for it (single flight), then find it in the local tier.
 *
 * <p>It deals in block payloads, token ids and hashes only: a lookup hands out the {@link KvBlock}s it found, and a
 * store asks a {@link PayloadSource} for the payloads of just the blocks it lacks. Turning payloads into a model's
 * tensors and back is the caller's part.
 */
public final class PromptCache {

    private static final Logger log = LoggerFactory.getLogger(PromptCache.class);

    private final PrefixHasher hasher;
    private final LocalKvStore local;
    private final Optional<RedisTier> redis;
    private final FetchOrCompute fetchOrCompute;
    private final PromptCacheMetrics metrics;
    private final Executor copier;
    private final Executor background;
    private final Spans spans;
    private final long singleFlightWaitMillis;
    private final LocalTierEvents events;
    private final ConcurrentHashMap<BlockHash, CompletableFuture<Void>> inFlight = new ConcurrentHashMap<>();

    /** @param events told of the blocks this cache puts into the local tier */
    public PromptCache(PrefixHasher hasher, LocalKvStore local, Optional<RedisTier> redis,
                       FetchOrCompute fetchOrCompute, PromptCacheMetrics metrics, Executor copier,
                       Executor background, Spans spans, java.time.Duration singleFlightWait,
                       LocalTierEvents events) {
        this.hasher = hasher;
        this.local = local;
        this.redis = redis;
        this.fetchOrCompute = fetchOrCompute;
        this.metrics = metrics;
        this.copier = copier;
        this.background = background;
        this.spans = spans;
        this.singleFlightWaitMillis = singleFlightWait.toMillis();
        this.events = events;
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
        BlockChain blocks = hasher.blocks(Arrays.copyOf(prompt, prompt.length - 1), salt);
        List<BlockHash> chain = blocks.hashes();
        List<KvBlock> found = new ArrayList<>();
        int localHits = spans.blocks("kvshare.prompt_cache.local", () -> findLocal(chain, found));
        Lookup lookup = new Lookup(prompt, blocks, salt);
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
                ? spans.blocks("kvshare.prompt_cache.redis", () -> findRemote(prompt, blocks, found)) : 0;
        Optional<FoundBlock> partial = partialAfter(prompt, blocks, found.size());
        int partialTokens = partial.map(FoundBlock::tokens).orElse(0);
        metrics.lookup("local", localHits > 0 || partialTokens > 0 ? "hit" : "miss");
        metrics.looked(prompt.length, localHits * blockSize() + partialTokens, redisAsked, redisHits * blockSize());
        lookup.found(found, localHits, redisHits, partial);
        return lookup;
    }

    /**
     * A block a lookup found, and how many of its leading tokens the prompt uses: all of a full block, a leading
     * part of a partial one. Its payload is laid out for {@code block.tokenIds().length} tokens.
     */
    public record FoundBlock(KvBlock block, int tokens) {
    }

    /**
     * The local tier's partial block after the first {@code blocks} full blocks, as far as its tokens equal the
     * prompt's (never the last prompt token: its logits are computed).
     */
    private Optional<FoundBlock> partialAfter(int[] prompt, BlockChain chain, int blocks) {
        return local.get(hasher.partial(chain.parentOf(blocks))).map(block -> {
            int[] held = block.tokenIds();
            int from = blocks * blockSize();
            int end = Math.min(held.length, prompt.length - 1 - from);
            int same = 0;
            while (same < end && held[same] == prompt[from + same]) {
                same++;
            }
            return new FoundBlock(block, same);
        }).filter(partial -> partial.tokens() > 0);
    }

    private int findLocal(List<BlockHash> chain, List<KvBlock> found) {
        List<KvBlock> held = local.leading(chain, found.size());
        found.addAll(held);
        return held.size();
    }

    private int findRemote(int[] prompt, BlockChain chain, List<KvBlock> found) {
        if (redis.isEmpty()) {
            return 0;
        }
        if (!fetchOrCompute.shouldFetch()) {
            metrics.lookup("redis", "skipped");
            return 0;
        }
        List<RedisTier.Wanted> wanted = new ArrayList<>();
        for (int i = found.size(); i < chain.size(); i++) {
            wanted.add(new RedisTier.Wanted(chain.hash(i), chain.parent(i), tokensOf(prompt, i)));
        }
        long start = System.nanoTime();
        List<KvBlock> fetched = redis.get().fetch(wanted);
        if (!fetched.isEmpty()) {
            fetchOrCompute.fetched(fetched.size() * blockSize(), System.nanoTime() - start);
            local.putChain(fetched);
        }
        metrics.lookup("redis", fetched.isEmpty() ? "miss" : "hit");
        found.addAll(fetched);
        return fetched.size();
    }

    /** Puts consecutive blocks of {@code chain}, the first at index {@code from}, into the local tier. */
    private void putLocal(int from, BlockChain chain, List<KvBlock> blocks) {
        events.stored(from == 0 ? Optional.empty() : Optional.of(chain.hash(from - 1)), blocks);
        local.putChain(blocks);
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

    private int[] tokensOf(int[] tokens, int block) {
        return Arrays.copyOfRange(tokens, block * blockSize(), (block + 1) * blockSize());
    }

    private static int[] tokensIn(int[] tokens, TokenRange range) {
        return Arrays.copyOfRange(tokens, range.from(), range.from() + range.length());
    }

    /** A lookup's result and the obligation to store what was missing (or release it on close). */
    public final class Lookup implements AutoCloseable {

        private final int[] prompt;
        private final BlockChain chain;
        private final String salt;
        private List<KvBlock> found = List.of();
        private int localBlocks;
        private int redisBlocks;
        private Optional<FoundBlock> partial = Optional.empty();
        private BlockHash claimed;
        private CompletableFuture<Void> claim;
        private volatile CompletableFuture<Void> pendingStore;

        private Lookup(int[] prompt, BlockChain chain, String salt) {
            this.prompt = prompt;
            this.chain = chain;
            this.salt = salt;
        }

        private void found(List<KvBlock> blocks, int local, int remote, Optional<FoundBlock> partial) {
            this.found = List.copyOf(blocks);
            this.localBlocks = local;
            this.redisBlocks = remote;
            this.partial = partial;
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
            return found.size() * blockSize() + partialTokens();
        }

        public int localTokens() {
            return localBlocks * blockSize() + partialTokens();
        }

        private int partialTokens() {
            return partial.map(FoundBlock::tokens).orElse(0);
        }

        public int redisTokens() {
            return redisBlocks * blockSize();
        }

        /** The found prefix's blocks in order, covering {@link #cachedTokens}; empty when nothing was found. */
        public List<FoundBlock> blocks() {
            List<FoundBlock> blocks = new ArrayList<>(found.size() + 1);
            found.forEach(block -> blocks.add(new FoundBlock(block, blockSize())));
            partial.ifPresent(blocks::add);
            return blocks;
        }

        /**
         * Stores the missing full blocks of the prefilled prompt. Called on the thread that ran the prefill (the
         * batch scheduler's, for a batched sequence), so it only holds the prompt's KV ({@code prefilled} is
         * asked on this thread, and only when blocks are missing) and returns: the copier thread copies the
         * missing blocks out of it, closes it and puts them into the local tier, then Redis gets them in the
         * background. Until the local tier has them, lookups of the same prefix wait for this one (single
         * flight) and {@link #close} waits too, so a finished request's blocks are found. When the copier is
         * behind, this prompt's blocks are not stored; a copy that fails is logged, never thrown.
         */
        public void store(Supplier<PayloadSource.Held> prefilled) {
            int from = found.size();
            int count = chain.size() - from;
            if (count <= 0) {
                release();
                return;
            }
            PayloadSource.Held held = prefilled.get();
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

        /**
         * Stores what a finished sequence computed beyond its prompt's stored blocks, so that its next turn (whose
         * prompt holds this one and its reply) or a repeat computes only its new tokens: the full blocks of the
         * reply, in both tiers; and in the local tier alone, the partial block after the last full one and,
         * when the reply filled the prompt's last block, the partial block at the prompt's end. What the local
         * tier already holds (the leading full blocks, a partial with the same tokens) is not copied again, so a
         * repeated prompt copies nothing: reading a sequence's KV copies every tensor whole out of native memory,
         * megabytes for a long prompt however few blocks are wanted. Copies now, on the calling thread.
         *
         * @param kv  the KV of {@code fed} (its token 0 is fed's first), asked during the call only
         * @param fed the prompt and every generated token fed back (not the last one sampled)
         */
        public void storeSequence(PayloadSource kv, int[] fed) {
            BlockChain fedChain = hasher.blocks(fed, salt);
            int firstFull = chain.size();
            while (firstFull < fedChain.size() && local.contains(fedChain.hash(firstFull))) {
                firstFull++;
            }
            List<TokenRange> ranges = new ArrayList<>(blockRanges(firstFull, fedChain.size() - firstFull));
            // The tail after the last full block; and, when the reply filled the prompt's last block, the
            // prompt's own tail, where a repeat of the prompt stops.
            List<BlockHash> partialParents = new ArrayList<>(2);
            if (fed.length % blockSize() > 0) {
                addPartial(fedChain.size(), fed.length % blockSize(), fedChain, fed, partialParents, ranges);
            }
            if (chain.size() < fedChain.size() && blockSize() > 1) {
                addPartial(chain.size(), blockSize() - 1, fedChain, fed, partialParents, ranges);
            }
            if (ranges.isEmpty()) {
                return;
            }
            List<ByteBuffer> payloads = kv.copy(ranges);
            int fullCount = fedChain.size() - firstFull;
            List<KvBlock> full = new ArrayList<>(fullCount);
            for (int i = 0; i < fullCount; i++) {
                int index = firstFull + i;
                full.add(new KvBlock(fedChain.hash(index), fedChain.parentOf(index), tokensOf(fed, index),
                        payloads.get(i)));
            }
            List<KvBlock> partials = new ArrayList<>(partialParents.size());
            for (int p = 0; p < partialParents.size(); p++) {
                BlockHash parent = partialParents.get(p);
                partials.add(new KvBlock(hasher.partial(parent), parent, tokensIn(fed, ranges.get(fullCount + p)),
                        payloads.get(fullCount + p)));
            }
            // Partials first: the chains they continue should be the last to go.
            partials.forEach(local::put);
            putLocal(firstFull, fedChain, full);
            metrics.stored("local", bytes(payloads));
            if (!full.isEmpty()) {
                redis.ifPresent(tier -> background.execute(spans.inBackground("kvshare.prompt_cache.store",
                        () -> tier.store(full))));
            }
        }

        /**
         * Adds the partial block of {@code length} tokens after full block {@code after - 1} to those to copy,
         * unless the local tier holds it with the same tokens.
         */
        private void addPartial(int after, int length, BlockChain fedChain, int[] fed, List<BlockHash> parents,
                                List<TokenRange> ranges) {
            BlockHash parent = fedChain.parentOf(after);
            TokenRange range = new TokenRange(after * blockSize(), length);
            if (!local.holds(hasher.partial(parent), tokensIn(fed, range))) {
                parents.add(parent);
                ranges.add(range);
            }
        }

        private void copyOut(PayloadSource held, int from, int count) {
            List<ByteBuffer> payloads = held.copy(blockRanges(from, count));
            List<KvBlock> blocks = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                int index = from + i;
                blocks.add(new KvBlock(chain.hash(index), chain.parent(index), tokensOf(prompt, index),
                        payloads.get(i)));
            }
            putLocal(from, chain, blocks);
            metrics.stored("local", bytes(payloads));
            redis.ifPresent(tier -> background.execute(spans.inBackground("kvshare.prompt_cache.store",
                    () -> tier.store(blocks))));
        }

        /** The token ranges of {@code count} full blocks from block {@code from}. */
        private List<TokenRange> blockRanges(int from, int count) {
            return IntStream.range(from, from + count)
                    .mapToObj(index -> new TokenRange(index * blockSize(), blockSize())).toList();
        }

        private static long bytes(List<ByteBuffer> payloads) {
            return payloads.stream().mapToLong(ByteBuffer::capacity).sum();
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
