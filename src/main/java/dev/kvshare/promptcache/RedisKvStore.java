package dev.kvshare.promptcache;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

import io.lettuce.core.KeyValue;
import io.lettuce.core.SetArgs;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.RedisConnectionFactory;

/**
 * The shared tier: {@link KvCodec} frames in Redis, through a Lettuce-backed connection factory, under
 * {@code kvshare:v{format}:{model fingerprint hex}:{block hash hex}} (DESIGN §4, contract).
 *
 * <p>Every failure surfaces as a {@link RedisTierException} at once: no retries here, because the
 * caller can always fall back to prefill and a {@link CircuitBreaker} decides when to try again.
 * How long a call may take is the connection factory's command timeout.
 */
public final class RedisKvStore {

    private final RedisConnectionFactory connections;
    private final String keyPrefix;

    public RedisKvStore(RedisConnectionFactory connections, byte[] modelFingerprint) {
        this.connections = Objects.requireNonNull(connections, "connections");
        this.keyPrefix = "kvshare:v" + KvCodec.FORMAT_VERSION + ":" + HexFormat.of().formatHex(modelFingerprint) + ":";
    }

    public byte[] key(BlockHash hash) {
        return (keyPrefix + hash.hex()).getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * One MGET for the whole list; the result has the same order, with null for each miss. On a Redis
     * Cluster, Lettuce splits the MGET by hash slot and sends the parts to their masters in parallel, so
     * the keys keep their contract form (no hash tags) and a chain's blocks spread over the cluster.
     */
    public List<byte[]> getAll(List<BlockHash> hashes) {
        if (hashes.isEmpty()) {
            return List.of();
        }
        byte[][] keys = hashes.stream().map(this::key).toArray(byte[][]::new);
        List<KeyValue<byte[], byte[]>> values = execute("MGET",
                connection -> lettuce(connection).mget(keys).toCompletableFuture().join());
        if (values == null || values.size() != keys.length) {
            throw new RedisTierException("MGET answered " + (values == null ? "nothing" : values.size() + " values")
                    + " for " + keys.length + " keys", null);
        }
        return values.stream().map(value -> value.getValueOrElse(null)).toList();
    }

    /**
     * Pipelined {@code SET key value EX ttl} for every entry: nothing is stored without a TTL.
     * Lettuce's async commands on the shared connection are pipelined (every SET is written before any
     * reply is awaited); spring-data's {@code openPipeline()} would instead open a new connection per call.
     * The replies expire after the command timeout through Lettuce's {@code TimeoutOptions}, which
     * {@code ClientOptions} enable unless explicitly turned off.
     */
    public void putAll(Map<BlockHash, byte[]> frames, Duration ttl) {
        if (ttl.toSeconds() < 1) {
            throw new IllegalArgumentException("TTL must be at least one second: " + ttl);
        }
        if (frames.isEmpty()) {
            return;
        }
        SetArgs expiry = SetArgs.Builder.ex(ttl.toSeconds());
        execute("SET", connection -> {
            RedisClusterAsyncCommands<byte[], byte[]> async = lettuce(connection);
            CompletableFuture<?>[] replies = frames.entrySet().stream()
                    .map(entry -> async.set(key(entry.getKey()), entry.getValue(), expiry).toCompletableFuture())
                    .toArray(CompletableFuture[]::new);
            return CompletableFuture.allOf(replies).join();
        });
    }

    /** Drops one entry, e.g. a frame the codec rejected. */
    public void delete(BlockHash hash) {
        execute("DEL", connection -> connection.keyCommands().del(key(hash)));
    }

    /** Whether Redis answers PING now; never throws (for health checks). */
    public boolean ping() {
        try {
            return "PONG".equalsIgnoreCase(execute("PING", RedisConnection::ping));
        } catch (RedisTierException e) {
            return false;
        }
    }

    @SuppressWarnings("unchecked")
    private static RedisClusterAsyncCommands<byte[], byte[]> lettuce(RedisConnection connection) {
        return (RedisClusterAsyncCommands<byte[], byte[]>) connection.getNativeConnection();
    }

    private <T> T execute(String command, Function<RedisConnection, T> action) {
        // RuntimeException, not only DataAccessException: whatever escapes the client, the caller's answer
        // is the same (prefill instead), and an unexpected type must not fail the request.
        try (RedisConnection connection = connections.getConnection()) {
            return action.apply(connection);
        } catch (RuntimeException e) {
            throw new RedisTierException("Redis " + command + " failed: " + e.getMessage(), e);
        }
    }
}
