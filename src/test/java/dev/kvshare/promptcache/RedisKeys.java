package dev.kvshare.promptcache;

import java.nio.charset.StandardCharsets;
import java.util.Set;

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

    /** Stores happen in the background after a request: wait (bounded) until some key exists. */
    static void awaitSome(TestRedis server, String pattern) throws InterruptedException {
        try (RedisKeys keys = new RedisKeys(server)) {
            for (int i = 0; i < 100 && keys.keys(pattern).isEmpty(); i++) {
                Thread.sleep(50);
            }
            if (keys.keys(pattern).isEmpty()) {
                throw new AssertionError("Nothing was stored in Redis under " + pattern);
            }
        }
    }

    @Override
    public void close() {
        connections.destroy();
    }
}
