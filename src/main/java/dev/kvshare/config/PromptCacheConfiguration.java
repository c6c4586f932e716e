package dev.kvshare.config;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import ai.onnxruntime.OrtEnvironment;
import dev.kvshare.model.KvBlocks;
import dev.kvshare.model.ModelFingerprint;
import dev.kvshare.model.ServedModel;
import dev.kvshare.observability.PromptCacheHealthIndicator;
import dev.kvshare.observability.Spans;
import dev.kvshare.promptcache.BlockSizes;
import dev.kvshare.promptcache.CacheNamespace;
import dev.kvshare.promptcache.CircuitBreaker;
import dev.kvshare.promptcache.FetchOrCompute;
import dev.kvshare.promptcache.KvCodec;
import dev.kvshare.promptcache.LocalKvStore;
import dev.kvshare.promptcache.PrefixHasher;
import dev.kvshare.promptcache.PromptCache;
import dev.kvshare.promptcache.PromptCacheMetrics;
import dev.kvshare.promptcache.PromptCacheProperties;
import dev.kvshare.promptcache.RedisKvStore;
import dev.kvshare.promptcache.RedisTier;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.SocketOptions;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
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
    PromptCache promptCache(ServedModel model, PromptCacheProperties properties, MeterRegistry registry,
                            ObjectProvider<RedisConnectionFactory> redisConnections,
                            ThreadPoolExecutor promptCacheCopies, ThreadPoolExecutor promptCacheStores, Spans spans) {
        byte[] fingerprint = ModelFingerprint.of(model.files().directory()).digest();
        var kv = model.decoder().io().kv();
        int blockSize = properties.blockSize() > 0 ? properties.blockSize() : BlockSizes.forBytesPerToken(kv.bytesPerToken());
        PromptCacheMetrics metrics = new PromptCacheMetrics(registry, model.name());
        LocalKvStore local = new LocalKvStore(properties.local().maxBytes());
        Optional<RedisTier> redis = Optional.empty();
        if (properties.redis().enabled()) {
            Optional<byte[]> hmacKey = Optional.of(properties).filter(PromptCacheProperties::signsFrames)
                    .map(p -> p.hmacKey().getBytes(StandardCharsets.UTF_8));
            if (hmacKey.isEmpty()) {
                log.warn("The prompt cache shares KV through Redis in UNSIGNED frames: anyone who can write to this "
                        + "Redis can plant KV that changes other users' answers. Set kvshare.prompt-cache.hmac-key "
                        + "(env KVSHARE_PROMPTCACHE_HMACKEY, the same on every replica) and "
                        + "kvshare.prompt-cache.require-hmac=true; see docs/security.md.");
            }
            KvCodec codec = new KvCodec(fingerprint, kv, blockSize, hmacKey);
            CircuitBreaker breaker = new CircuitBreaker(properties.redis().failureThreshold(),
                    properties.redis().openDuration(), Clock.systemUTC());
            redis = Optional.of(new RedisTier(new RedisKvStore(redisConnections.getObject(), fingerprint,
                    codec.maxFrameLength()), codec,
                    breaker, properties.redis().ttl(), metrics));
        }
        FetchOrCompute fetchOrCompute = new FetchOrCompute();
        PromptCache cache = new PromptCache(new PrefixHasher(fingerprint, blockSize), local, redis,
                new KvBlocks(OrtEnvironment.getEnvironment(), kv), fetchOrCompute, metrics, promptCacheCopies,
                promptCacheStores, spans,
                properties.singleFlightWait());
        metrics.gauge("kvshare.prompt.cache.local.bytes", "KV bytes held by the local tier", () -> local.stats().bytes());
        metrics.gauge("kvshare.prompt.cache.local.entries", "Blocks held by the local tier", () -> local.stats().entries());
        metrics.gauge("kvshare.prompt.cache.fetch.tokens.per.second", "Measured Redis restore rate",
                fetchOrCompute::fetchTokensPerSecond);
        metrics.gauge("kvshare.prefill.tokens.per.second", "Measured prefill rate", fetchOrCompute::prefillTokensPerSecond);
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

    @Bean
    @ConditionalOnProperty(name = "kvshare.prompt-cache.enabled", havingValue = "true", matchIfMissing = true)
    PromptCacheHealthIndicator promptCacheHealthIndicator(PromptCache promptCache, PromptCacheProperties properties) {
        return new PromptCacheHealthIndicator(promptCache, properties.signsFrames());
    }
}
