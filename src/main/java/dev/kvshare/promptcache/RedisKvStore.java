package dev.kvshare.promptcache;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.async.RedisAdvancedClusterAsyncCommands;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.RedisConnectionFactory;

/**
 * The shared tier: {@link KvCodec} frames in Redis, through a Lettuce-backed connection factory, under
 * {@code kvshare:v{format}:{model fingerprint hex}:{block hash hex}} (docs/prompt-cache.md, "Keys and frames").
 *
 * <p>Every failure surfaces as a {@link RedisTierException} at once: no retries here, because the
 * caller can always fall back to prefill and a {@link CircuitBreaker} decides when to try again.
 * How long a call may take is the connection factory's command timeout.
 */
public final class RedisKvStore {

    /**
     * Per key: the value when it is at most {@code ARGV[1]} bytes long, else its length (an integer reply), or
     * false (a nil reply) when the key is missing. The length is checked on the server in the same round trip,
     * so an oversized value planted under a block key is never sent, let alone read.
     */
    private static final byte[] GET_BOUNDED = """
            local values = {}
            for i, key in ipairs(KEYS) do
              local length = redis.call('STRLEN', key)
              if length > tonumber(ARGV[1]) then
                values[i] = length
              else
                values[i] = redis.call('GET', key)
              end
            end
            return values""".getBytes(StandardCharsets.US_ASCII);

    private final RedisConnectionFactory connections;
    private final String keyPrefix;
    private final byte[] maxValueBytes;

    /**
     * @param formatVersion the frames' format ({@link KvCodec#formatVersion()}): encrypted frames live under keys
     *                      of their own, so replicas that do not share a format never read each other's frames
     * @param maxValueBytes the largest value a lookup reads: the longest frame this model's blocks can have
     */
    public RedisKvStore(RedisConnectionFactory connections, int formatVersion, byte[] modelFingerprint,
                        int maxValueBytes) {
        this.connections = Objects.requireNonNull(connections, "connections");
        this.keyPrefix = "kvshare:v" + formatVersion + ":" + HexFormat.of().formatHex(modelFingerprint) + ":";
        this.maxValueBytes = Integer.toString(maxValueBytes).getBytes(StandardCharsets.US_ASCII);
    }

    public byte[] key(BlockHash hash) {
        return (keyPrefix + hash.hex()).getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * The values under {@code hashes}, in order, each read only if it is at most the maximum length: one
     * script call (one round trip). On a Redis Cluster the keys keep their contract form (no hash tags), so a
     * chain's blocks spread over the masters: there it is one call per hash slot, all sent before any reply
     * is awaited and run by their masters in parallel.
     */
    public List<Stored> getAll(List<BlockHash> hashes) {
        if (hashes.isEmpty()) {
            return List.of();
        }
        byte[][] keys = hashes.stream().map(this::key).toArray(byte[][]::new);
        Stored[] values = new Stored[keys.length];
        execute("GET", connection -> {
            RedisClusterAsyncCommands<byte[], byte[]> async = lettuce(connection);
            List<CompletableFuture<Void>> replies = new ArrayList<>();
            for (List<Integer> slotKeys : groups(keys, async instanceof RedisAdvancedClusterAsyncCommands)) {
                byte[][] slotKeyBytes = slotKeys.stream().map(i -> keys[i]).toArray(byte[][]::new);
                replies.add(async.<List<Object>>eval(GET_BOUNDED, ScriptOutputType.MULTI, slotKeyBytes, maxValueBytes)
                        .toCompletableFuture().thenAccept(reply -> {
                            for (int j = 0; j < slotKeys.size(); j++) {
                                values[slotKeys.get(j)] = Stored.of(reply.get(j));
                            }
                        }));
            }
            return CompletableFuture.allOf(replies.toArray(CompletableFuture[]::new)).join();
        });
        return Arrays.asList(values);
    }

    /** Key indexes per script call: all in one, or on a cluster one call per hash slot (a script's keys must share one). */
    private static Iterable<List<Integer>> groups(byte[][] keys, boolean cluster) {
        Map<Integer, List<Integer>> groups = new LinkedHashMap<>();
        for (int i = 0; i < keys.length; i++) {
            groups.computeIfAbsent(cluster ? SlotHash.getSlot(keys[i]) : 0, slot -> new ArrayList<>()).add(i);
        }
        return groups.values();
    }

    /**
     * What a key holds, as a lookup sees it.
     *
     * @param bytes         the value, or null when the key is missing or its value too long to read
     * @param refusedLength the length of a value too long to read, else 0
     */
    public record Stored(byte[] bytes, long refusedLength) {

        static Stored of(Object reply) {
            if (reply instanceof byte[] value) {
                return new Stored(value, 0);
            }
            return new Stored(null, reply instanceof Long length ? length : 0);
        }

        public boolean isMissing() {
            return bytes == null && refusedLength == 0;
        }

        public boolean isRefused() {
            return refusedLength > 0;
        }
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

    /**
     * Which of {@code hashes} have an entry, in order: pipelined {@code EXISTS}, one round trip, no value read
     * (nor checked: a present entry may still be refused by the codec when a lookup reads it).
     */
    public List<Boolean> exist(List<BlockHash> hashes) {
        if (hashes.isEmpty()) {
            return List.of();
        }
        return execute("EXISTS", connection -> {
            RedisClusterAsyncCommands<byte[], byte[]> async = lettuce(connection);
            List<CompletableFuture<Long>> replies = hashes.stream()
                    .map(hash -> async.exists(key(hash)).toCompletableFuture()).toList();
            return replies.stream().map(reply -> reply.join() > 0).toList();
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
