package dev.kvshare.promptcache;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The prompt cache's shared tier: frames in Redis behind a circuit breaker. Nothing here fails a request:
 * Redis errors, timeouts and bad frames all read as misses (bad frames are also deleted and counted).
 */
public final class RedisTier {

    private static final Logger log = LoggerFactory.getLogger(RedisTier.class);

    private final RedisKvStore store;
    private final KvCodec codec;
    private final CircuitBreaker breaker;
    private final Duration ttl;
    private final PromptCacheMetrics metrics;
    private volatile boolean loggedRejection;

    public RedisTier(RedisKvStore store, KvCodec codec, CircuitBreaker breaker, Duration ttl,
                     PromptCacheMetrics metrics) {
        this.store = store;
        this.codec = codec;
        this.breaker = breaker;
        this.ttl = ttl;
        this.metrics = metrics;
    }

    /**
     * The leading blocks of {@code wanted} that Redis holds, fetched in one round trip and checked frame by
     * frame; stops at the first miss or bad frame.
     */
    List<KvBlock> fetch(List<Wanted> wanted) {
        List<RedisKvStore.Stored> frames;
        long start = System.nanoTime();
        try {
            frames = breaker.call(() -> store.getAll(wanted.stream().map(Wanted::hash).toList()));
        } catch (RuntimeException e) {
            metrics.lookup("redis", "error");
            log.debug("Redis lookup failed, computing the prefix instead: {}", e.toString());
            return List.of();
        } finally {
            metrics.redisCall("get", Duration.ofNanos(System.nanoTime() - start));
        }
        List<KvBlock> blocks = new ArrayList<>();
        for (int i = 0; i < wanted.size() && !frames.get(i).isMissing(); i++) {
            Wanted block = wanted.get(i);
            if (frames.get(i).isRefused()) {
                reject(block.hash(), RejectReason.OVERSIZE);
                break;
            }
            KvCodec.Decoded decoded = codec.decode(frames.get(i).bytes(), block.hash(), block.parent(),
                    block.tokenIds());
            if (decoded instanceof KvCodec.Decoded.Rejected rejected) {
                reject(block.hash(), rejected.reason());
                break;
            }
            blocks.add(((KvCodec.Decoded.Accepted) decoded).block());
        }
        return blocks;
    }

    /** Encodes and writes blocks in one pipeline, each with the TTL; failures are logged and dropped. */
    void store(List<KvBlock> blocks) {
        Map<BlockHash, byte[]> frames = new LinkedHashMap<>();
        long bytes = 0;
        for (KvBlock block : blocks) {
            byte[] frame = codec.encode(block);
            frames.put(block.hash(), frame);
            bytes += frame.length;
        }
        long start = System.nanoTime();
        try {
            breaker.run(() -> store.putAll(frames, ttl));
            metrics.stored("redis", bytes);
        } catch (RuntimeException e) {
            log.debug("Redis store failed; the blocks stay in the local tier only: {}", e.toString());
        } finally {
            metrics.redisCall("set", Duration.ofNanos(System.nanoTime() - start));
        }
    }

    private void reject(BlockHash hash, RejectReason reason) {
        metrics.rejected(reason);
        if (!loggedRejection) {
            loggedRejection = true;
            log.warn("Dropped a prompt-cache frame from Redis ({}); such frames are treated as misses, deleted "
                    + "and counted in kvshare_prompt_cache_rejects_total. Further ones are not logged.", reason);
        }
        try {
            breaker.run(() -> store.delete(hash));
        } catch (RuntimeException e) {
            log.debug("Could not delete a rejected frame: {}", e.toString());
        }
    }

    /** How many leading {@code hashes} Redis holds (see {@link RedisKvStore#exist}); fails when Redis does. */
    int leadingPresent(List<BlockHash> hashes) {
        long start = System.nanoTime();
        try {
            List<Boolean> present = breaker.call(() -> store.exist(hashes));
            int leading = present.indexOf(false);
            return leading < 0 ? present.size() : leading;
        } finally {
            metrics.redisCall("exists", Duration.ofNanos(System.nanoTime() - start));
        }
    }

    public CircuitBreaker.State circuitState() {
        return breaker.state();
    }

    public boolean ping() {
        return store.ping();
    }

    /** A block a lookup wants: its hash, its parent's, and the prompt tokens it must hold. */
    record Wanted(BlockHash hash, BlockHash parent, int[] tokenIds) {

        @Override
        public boolean equals(Object other) {
            return other instanceof Wanted w && hash.equals(w.hash) && parent.equals(w.parent)
                    && Arrays.equals(tokenIds, w.tokenIds);
        }

        @Override
        public int hashCode() {
            return hash.hashCode();
        }

        @Override
        public String toString() {
            return "Wanted[" + hash.hex() + "]";
        }
    }
}
