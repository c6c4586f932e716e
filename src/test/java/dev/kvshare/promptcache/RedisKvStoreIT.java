package dev.kvshare.promptcache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import dev.kvshare.testsupport.Pause;
import dev.kvshare.testsupport.TestRedis;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

class RedisKvStoreIT {

    private static final Duration TIMEOUT = Duration.ofMillis(500);
    private static final byte[] FINGERPRINT = PrefixHasherTest.sha256("model".getBytes(StandardCharsets.UTF_8));

    private static TestRedis redis;
    private static LettuceConnectionFactory connections;
    private static final int MAX_VALUE_BYTES = 8 << 20;

    private static RedisKvStore store;

    private final Random random = new Random(7);

    @BeforeAll
    static void startRedis() {
        redis = new TestRedis().start();
        connections = connectTo(redis);
        store = new RedisKvStore(connections, KvCodec.FORMAT_VERSION, FINGERPRINT, MAX_VALUE_BYTES);
    }

    @AfterAll
    static void stopRedis() {
        connections.destroy();
        redis.close();
    }

    @Test
    void keyFollowsTheContract() {
        BlockHash hash = TestBlocks.hash(random);
        assertThat(new String(store.key(hash), StandardCharsets.US_ASCII))
                .isEqualTo("kvshare:v1:" + HexFormat.of().formatHex(FINGERPRINT) + ":" + hash.hex())
                .matches("kvshare:v1:[0-9a-f]{64}:[0-9a-f]{64}");
    }

    @Test
    void getAllAnswersHitsAndMissesInOrderInOneCall() {
        Map<BlockHash, byte[]> stored = frames(3);
        store.putAll(stored, Duration.ofMinutes(5));
        List<BlockHash> stored3 = List.copyOf(stored.keySet());
        BlockHash missing = TestBlocks.hash(random);

        Map<String, Long> callsBefore = commandCalls();
        List<byte[]> values = bytes(store.getAll(List.of(stored3.get(0), missing, stored3.get(1), stored3.get(2))));
        Map<String, Long> callsAfter = commandCalls();

        assertThat(callsAfter.get("eval") - callsBefore.getOrDefault("eval", 0L)).isOne();
        assertThat(values).hasSize(4);
        assertThat(values.get(0)).isEqualTo(stored.get(stored3.get(0)));
        assertThat(values.get(1)).isNull();
        assertThat(values.get(2)).isEqualTo(stored.get(stored3.get(1)));
        assertThat(values.get(3)).isEqualTo(stored.get(stored3.get(2)));
        assertThat(store.getAll(List.of())).isEmpty();
    }

    @Test
    void largeValuesRoundTrip() {
        Map<BlockHash, byte[]> stored = new LinkedHashMap<>();
        byte[] fourMegabytes = new byte[4 << 20];
        random.nextBytes(fourMegabytes);
        stored.put(TestBlocks.hash(random), fourMegabytes);
        store.putAll(stored, Duration.ofMinutes(1));
        assertThat(store.getAll(List.copyOf(stored.keySet())).get(0).bytes()).isEqualTo(fourMegabytes);
    }

    @Test
    void aValueLongerThanAnyFrameIsRefusedWithoutBeingRead() {
        BlockHash planted = TestBlocks.hash(random);
        LettuceConnectionFactory patient = connectTo(redis, Duration.ofSeconds(60)); // allocating 512 MB takes a while
        try (RedisConnection connection = patient.getConnection()) {
            // 512 MB made on the server itself (SETRANGE pads with zeros), as a hostile writer could.
            connection.stringCommands().setRange(store.key(planted), new byte[] {1}, (512L << 20) - 1);
            long sentBefore = netOutputBytes(connection);

            RedisKvStore.Stored value = store.getAll(List.of(planted)).get(0);

            assertThat(value.isRefused()).isTrue();
            assertThat(value.refusedLength()).isEqualTo(512L << 20);
            assertThat(netOutputBytes(connection) - sentBefore).as("bytes Redis sent").isLessThan(64 << 10);
            connection.keyCommands().del(store.key(planted));
        } finally {
            patient.destroy();
        }
    }

    private static long netOutputBytes(RedisConnection connection) {
        return Long.parseLong(connection.serverCommands().info("stats").getProperty("total_net_output_bytes"));
    }

    private static List<byte[]> bytes(List<RedisKvStore.Stored> values) {
        return values.stream().map(RedisKvStore.Stored::bytes).toList();
    }

    @Test
    void everyStoredKeyHasTheTtl() {
        Map<BlockHash, byte[]> stored = frames(5);
        store.putAll(stored, Duration.ofSeconds(90));
        try (RedisConnection connection = connections.getConnection()) {
            for (BlockHash hash : stored.keySet()) {
                assertThat(connection.keyCommands().ttl(store.key(hash))).as("TTL of %s", hash).isBetween(80L, 90L);
            }
        }
        assertThatThrownBy(() -> store.putAll(stored, Duration.ofMillis(500)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void reusesOneConnection() {
        store.putAll(frames(2), Duration.ofMinutes(1));
        long before = connectionsReceived();
        for (int i = 0; i < 5; i++) {
            Map<BlockHash, byte[]> stored = frames(3);
            store.putAll(stored, Duration.ofMinutes(1));
            store.getAll(List.copyOf(stored.keySet()));
        }
        assertThat(connectionsReceived()).isEqualTo(before);
    }

    @Test
    void deletes() {
        Map<BlockHash, byte[]> stored = frames(2);
        store.putAll(stored, Duration.ofMinutes(1));
        List<BlockHash> hashes = List.copyOf(stored.keySet());

        store.delete(hashes.get(0));

        List<byte[]> values = bytes(store.getAll(hashes));
        assertThat(values.get(0)).isNull();
        assertThat(values.get(1)).isEqualTo(stored.get(hashes.get(1)));
    }

    @Test
    void failsFastWhileRedisIsDownAndRecoversAfterARestart() {
        try (TestRedis faulty = new TestRedis().start()) {
            LettuceConnectionFactory faultyConnections = connectTo(faulty);
            try {
                RedisKvStore faultyStore = new RedisKvStore(faultyConnections, KvCodec.FORMAT_VERSION, FINGERPRINT,
                        MAX_VALUE_BYTES);
                Map<BlockHash, byte[]> stored = frames(2);
                faultyStore.putAll(stored, Duration.ofMinutes(1));
                List<BlockHash> hashes = List.copyOf(stored.keySet());
                assertThat(faultyStore.ping()).isTrue();

                faulty.stop();

                assertFailsWithinTimeout(() -> faultyStore.getAll(hashes));
                assertFailsWithinTimeout(() -> faultyStore.putAll(stored, Duration.ofMinutes(1)));
                assertFailsWithinTimeout(() -> faultyStore.delete(hashes.get(0)));
                long start = System.nanoTime();
                assertThat(faultyStore.ping()).isFalse();
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(TIMEOUT.multipliedBy(4));

                faulty.start();

                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (!faultyStore.ping() && System.nanoTime() < deadline) {
                    Pause.sleep(100);
                }
                // Redis restarted without persistence: the entries are gone, the tier works again.
                assertThat(bytes(faultyStore.getAll(hashes))).containsOnlyNulls();
                faultyStore.putAll(stored, Duration.ofMinutes(1));
                assertThat(bytes(faultyStore.getAll(hashes))).doesNotContainNull();
            } finally {
                faultyConnections.destroy();
            }
        }
    }

    private static long connectionsReceived() {
        try (RedisConnection connection = connections.getConnection()) {
            return Long.parseLong(connection.serverCommands().info("stats").getProperty("total_connections_received"));
        }
    }

    /** Calls per command so far, from INFO commandstats ({@code cmdstat_mget:calls=3,...}). */
    private static Map<String, Long> commandCalls() {
        try (RedisConnection connection = connections.getConnection()) {
            Properties stats = connection.serverCommands().info("commandstats");
            return stats.stringPropertyNames().stream().filter(name -> name.startsWith("cmdstat_"))
                    .collect(Collectors.toMap(name -> name.substring("cmdstat_".length()),
                            name -> Long.parseLong(stats.getProperty(name).replaceAll("^calls=(\\d+),.*", "$1"))));
        }
    }

    private static void assertFailsWithinTimeout(Runnable call) {
        long start = System.nanoTime();
        assertThatThrownBy(call::run).isInstanceOf(RedisTierException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(TIMEOUT.multipliedBy(4));
    }

    private Map<BlockHash, byte[]> frames(int count) {
        Map<BlockHash, byte[]> frames = new LinkedHashMap<>();
        IntStream.range(0, count).forEach(i -> {
            byte[] frame = new byte[1000 + i];
            random.nextBytes(frame);
            frames.put(TestBlocks.hash(random), frame);
        });
        return frames;
    }

    private static LettuceConnectionFactory connectTo(TestRedis redis) {
        return connectTo(redis, TIMEOUT);
    }

    private static LettuceConnectionFactory connectTo(TestRedis redis, Duration timeout) {
        LettuceConnectionFactory factory = new LettuceConnectionFactory(
                new RedisStandaloneConfiguration(redis.host(), redis.port()),
                LettuceClientConfiguration.builder().commandTimeout(timeout).build());
        factory.afterPropertiesSet();
        factory.start();
        return factory;
    }

}
