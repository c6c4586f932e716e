package dev.kvshare.promptcache;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import dev.kvshare.model.ModelFingerprint;
import dev.kvshare.testsupport.TestRedis;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

/** Looks into the test Redis from the outside, as an operator with redis-cli would. */
final class RedisKeys implements AutoCloseable {

    private final LettuceConnectionFactory connections;
    final StringRedisTemplate redis;

    RedisKeys(TestRedis server) {
        connections = new LettuceConnectionFactory(new RedisStandaloneConfiguration(server.host(), server.port()));
        connections.afterPropertiesSet();
        connections.start();
        redis = new StringRedisTemplate(connections);
    }

    Set<String> keys(String pattern) {
        return redis.keys(pattern);
    }

    byte[] get(String key) {
        return redis.execute((RedisCallback<byte[]>) c -> c.stringCommands().get(key.getBytes(StandardCharsets.UTF_8)));
    }

    void set(String key, byte[] value) {
        redis.execute((RedisCallback<Boolean>) c -> c.stringCommands().set(key.getBytes(StandardCharsets.UTF_8), value));
    }

    /** The Redis keys of a prompt's full blocks (its last token never counts), as a replica stores them. */
    static List<String> chainKeys(byte[] fingerprint, int blockSize, List<Integer> prompt, String salt) {
        return chainKeys(KvCodec.FORMAT_VERSION, fingerprint, blockSize, prompt, salt);
    }

    /** As {@link #chainKeys(byte[], int, List, String)}, for frames of a format version (2: encrypted). */
    static List<String> chainKeys(int formatVersion, byte[] fingerprint, int blockSize, List<Integer> prompt,
                                  String salt) {
        int[] ids = prompt.stream().mapToInt(Integer::intValue).toArray();
        String prefix = "kvshare:v" + formatVersion + ":" + new ModelFingerprint(fingerprint).hex() + ":";
        return new PrefixHasher(fingerprint, blockSize).chain(Arrays.copyOf(ids, ids.length - 1), salt).stream()
                .map(hash -> prefix + hash.hex()).toList();
    }

    /** Stores happen in the background after a request: wait (bounded) until all these keys exist. */
    static void awaitAll(TestRedis server, List<String> expected) throws InterruptedException {
        try (RedisKeys keys = new RedisKeys(server)) {
            // Bounded generously: on a loaded machine the background store can lag by seconds.
            for (int i = 0; i < 1200 && keys.redis.countExistingKeys(expected) < expected.size(); i++) {
                Thread.sleep(25);
            }
            long present = keys.redis.countExistingKeys(expected);
            if (expected.isEmpty() || present < expected.size()) {
                throw new AssertionError("Redis holds " + present + " of the " + expected.size() + " expected blocks");
            }
        }
    }

    @Override
    public void close() {
        connections.destroy();
    }
}
