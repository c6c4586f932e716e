package dev.kvshare.config;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import dev.kvshare.generation.GenerationProperties;
import dev.kvshare.model.KvSpec;
import dev.kvshare.model.ModelFingerprint;
import dev.kvshare.model.ServedModel;
import dev.kvshare.ops.PromptCacheHealthIndicator;
import dev.kvshare.observability.Spans;
import dev.kvshare.promptcache.BlockSizes;
import dev.kvshare.promptcache.CacheNamespace;
import dev.kvshare.promptcache.CircuitBreaker;
import dev.kvshare.promptcache.FetchOrCompute;
import dev.kvshare.promptcache.FrameKeys;
import dev.kvshare.promptcache.KvCodec;
import dev.kvshare.promptcache.LocalKvStore;
import dev.kvshare.promptcache.LocalTierEvents;
import dev.kvshare.promptcache.LocalTierSize;
import dev.kvshare.promptcache.PrefixHasher;
import dev.kvshare.promptcache.PromptCache;
import dev.kvshare.promptcache.PromptCacheMetrics;
import dev.kvshare.promptcache.PromptCacheProperties;
import dev.kvshare.promptcache.RedisKvStore;
import dev.kvshare.promptcache.RedisTier;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.resource.Delay;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.data.redis.autoconfigure.ClientResourcesBuilderCustomizer;
import org.springframework.boot.data.redis.autoconfigure.LettuceClientConfigurationBuilderCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.connection.RedisConnectionFactory;

/** Wires the prompt cache for the served model: present unless {@code kvshare.prompt-cache.enabled=false}. */
@Configuration(proxyBeanMethods = false)
public class PromptCacheConfiguration {

    private static final Logger log = LoggerFactory.getLogger(PromptCacheConfiguration.class);

    @Bean
    CacheNamespace cacheNamespace(PromptCacheProperties properties) {
        return new CacheNamespace(properties.tenants());
    }

    /** Redis calls fail fast: a short command timeout, and no queueing while disconnected. */
    @Bean
    LettuceClientConfigurationBuilderCustomizer promptCacheRedisTimeouts(PromptCacheProperties properties) {
        var timeout = properties.redis().timeout();
        return builder -> builder.commandTimeout(timeout).clientOptions(ClientOptions.builder()
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .socketOptions(SocketOptions.builder().connectTimeout(timeout).build())
                .build());
    }

    /**
     * A dropped connection retries from 100 ms, doubling up to the breaker's open duration rather than Lettuce's
     * 30 s: a pod idle through an outage would otherwise lose its stores for up to 30 s after Redis is back.
     */
    @Bean
    ClientResourcesBuilderCustomizer promptCacheRedisReconnect(PromptCacheProperties properties) {
        Duration first = Duration.ofMillis(100);
        Duration openDuration = properties.redis().openDuration();
        Duration cap = openDuration.compareTo(first) > 0 ? openDuration : first.multipliedBy(2);
        return builder -> builder.reconnectDelay(Delay.exponential(first, cap, 2, TimeUnit.MILLISECONDS));
    }

    @Bean(destroyMethod = "shutdown")
    @ConditionalOnProperty(name = "kvshare.prompt-cache.enabled", havingValue = "true", matchIfMissing = true)
    ThreadPoolExecutor promptCacheStores() {
        // Background Redis writes; when Redis lags, newer stores are dropped rather than queued without bound.
        return new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(64),
                task -> new Thread(task, "prompt-cache-store"), new ThreadPoolExecutor.DiscardPolicy());
    }

    @Bean(destroyMethod = "shutdown")
    @ConditionalOnProperty(name = "kvshare.prompt-cache.enabled", havingValue = "true", matchIfMissing = true)
    ThreadPoolExecutor promptCacheCopies() {
        // Copies prefilled KV out and into the local tier, off the thread that runs the model. Each queued copy
        // holds a lease on a prompt's KV, so the queue is short; when it is full a prompt is not stored.
        return new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(16),
                task -> new Thread(task, "prompt-cache-copy"), new ThreadPoolExecutor.AbortPolicy());
    }

    @Bean
    @ConditionalOnProperty(name = "kvshare.prompt-cache.enabled", havingValue = "true", matchIfMissing = true)
    PromptCache promptCache(ServedModel model, PromptCacheProperties properties, GenerationProperties generation,
                            MeterRegistry registry, ObjectProvider<RedisConnectionFactory> redisConnections,
                            ThreadPoolExecutor promptCacheCopies, ThreadPoolExecutor promptCacheStores, Spans spans,
                            ObjectProvider<LocalTierEvents> localTierEvents) {
        byte[] fingerprint = ModelFingerprint.of(model.files()).digest();
        var kv = model.decoder().io().kv();
        int blockSize = properties.blockSize() > 0 ? properties.blockSize() : BlockSizes.forBytesPerToken(kv.bytesPerToken());
        PromptCacheMetrics metrics = new PromptCacheMetrics(registry, model.name());
        LocalTierEvents events = localTierEvents.getIfAvailable(() -> LocalTierEvents.NONE);
        // Routers know full blocks only: a partial block (fewer tokens, local tier alone) leaves unannounced.
        long localCapacity = localTierBytes(properties, kv.bytesPerToken(), model.config().contextLength(),
                generation.maxConcurrent());
        LocalKvStore local = new LocalKvStore(localCapacity, block -> {
                    if (block.tokenIds().length == blockSize) {
                        events.removed(block.hash());
                    }
                });
        Optional<RedisTier> redis = Optional.empty();
        if (properties.redis().enabled()) {
            KvCodec codec = codec(properties, fingerprint, kv, blockSize);
            CircuitBreaker breaker = new CircuitBreaker(properties.redis().failureThreshold(),
                    properties.redis().openDuration(), Clock.systemUTC());
            redis = Optional.of(new RedisTier(new RedisKvStore(redisConnections.getObject(), codec.formatVersion(),
                    fingerprint, codec.maxFrameLength()), codec, breaker, properties.redis().ttl(), metrics));
        }
        FetchOrCompute fetchOrCompute = new FetchOrCompute();
        PromptCache cache = new PromptCache(prefixHasher(model, properties, fingerprint, blockSize), local, redis,
                fetchOrCompute, metrics, promptCacheCopies,
                promptCacheStores, spans, properties.singleFlightWait(), events);
        metrics.gauge("kvshare.prompt.cache.local.bytes", "KV bytes held by the local tier", () -> local.stats().bytes());
        metrics.gauge("kvshare.prompt.cache.local.entries", "Blocks held by the local tier", () -> local.stats().entries());
        metrics.gauge("kvshare.prompt.cache.fetch.tokens.per.second", "Measured Redis restore rate",
                fetchOrCompute::fetchTokensPerSecond);
        metrics.gauge("kvshare.prefill.tokens.per.second", "Measured prefill rate", fetchOrCompute::prefillTokensPerSecond);
        metrics.vllmGauge("vllm:kv_cache_usage_perc", "KV-cache usage: the local tier's fill, 1 = full",
                () -> localCapacity == 0 ? 0 : (double) local.stats().bytes() / localCapacity);
        metrics.gauge("kvshare.prompt.cache.local.hit.ratio", "Share of local-tier block reads that hit",
                () -> local.stats().hitRatio());
        if (redis.isPresent()) {
            RedisTier tier = redis.get();
            metrics.gauge("kvshare.prompt.cache.fetch.gate", "1 while lookups ask Redis, 0 while fetch-or-compute "
                    + "skips it as slower than prefill", () -> fetchOrCompute.state() == FetchOrCompute.State.FETCHING ? 1 : 0);
            for (CircuitBreaker.State state : CircuitBreaker.State.values()) {
                metrics.gauge("kvshare.prompt.cache.redis.breaker", "1 for the circuit breaker's current state",
                        () -> tier.circuitState() == state ? 1 : 0, "state", state.name().toLowerCase(Locale.ROOT));
            }
        }
        return cache;
    }

    /** Block hashes that share the full blocks of the operator's public prefixes between all tenants. */
    private static PrefixHasher prefixHasher(ServedModel model, PromptCacheProperties properties, byte[] fingerprint,
                                             int blockSize) {
        List<int[]> publicPrefixes = properties.publicPrefixes().stream()
                .map(prefix -> prefix.system() != null && !prefix.system().isBlank()
                        ? model.chatPrompts().systemPrefix(prefix.system(), model.config().contextLength())
                        : model.tokenizer().encode(prefix.text(), true))
                .toList();
        PrefixHasher hasher = new PrefixHasher(fingerprint, blockSize, publicPrefixes);
        if (!publicPrefixes.isEmpty()) {
            log.info("{} public prefix(es): {} blocks of {} tokens are shared by every tenant", publicPrefixes.size(),
                    hasher.publicPrefixBlocks(), blockSize);
        }
        return hasher;
    }

    /** Encrypted frames with an encryption key, else signed ones with an HMAC key, else plain (warned about). */
    private static KvCodec codec(PromptCacheProperties properties, byte[] fingerprint, KvSpec kv, int blockSize) {
        Optional<FrameKeys> keys = FrameKeys.parse(properties.encryptionKey(), properties.decryptionKeys());
        if (keys.isPresent()) {
            log.info("Prompt-cache frames in Redis are AES-256-GCM encrypted ({} key(s) read)",
                    keys.get().readableKeys());
            return new KvCodec(fingerprint, kv, blockSize, keys.get());
        }
        if (!properties.signsFrames()) {
            log.warn("The prompt cache shares KV through Redis in UNSIGNED, UNENCRYPTED frames: anyone who can write "
                    + "to this Redis can plant KV that changes other users' answers, and anyone who can read it reads "
                    + "the prompts. Set kvshare.prompt-cache.encryption-key (env KVSHARE_PROMPTCACHE_ENCRYPTIONKEY) or "
                    + "at least kvshare.prompt-cache.hmac-key (env KVSHARE_PROMPTCACHE_HMACKEY), the same on every "
                    + "replica, and kvshare.prompt-cache.require-hmac=true; see docs/security.md.");
            return new KvCodec(fingerprint, kv, blockSize, Optional.empty());
        }
        return new KvCodec(fingerprint, kv, blockSize,
                Optional.of(properties.hmacKey().getBytes(StandardCharsets.UTF_8)));
    }

    private static long localTierBytes(PromptCacheProperties properties, long bytesPerToken, int contextLength,
                                       int concurrentSequences) {
        if (properties.local().maxBytes() > 0) {
            return properties.local().maxBytes();
        }
        long bytes = LocalTierSize.forModel(bytesPerToken, contextLength, concurrentSequences,
                Runtime.getRuntime().maxMemory());
        log.info("Prompt-cache local tier: {} MiB ({} tokens of KV; kvshare.prompt-cache.local.max-bytes overrides)",
                bytes >> 20, bytes / bytesPerToken);
        return bytes;
    }

    @Bean
    @ConditionalOnProperty(name = "kvshare.prompt-cache.enabled", havingValue = "true", matchIfMissing = true)
    PromptCacheHealthIndicator promptCacheHealthIndicator(PromptCache promptCache, PromptCacheProperties properties) {
        return new PromptCacheHealthIndicator(promptCache, properties.frameProtection());
    }
}
