package dev.kvshare.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;

import redis.embedded.RedisSentinel;

/** A real Redis Sentinel (redis-server in sentinel mode) watching a {@link TestRedis} master. */
public final class TestRedisSentinel implements AutoCloseable {

    public static final String MASTER = "kvshare-master";

    private final RedisSentinel sentinel;
    private final int port = TestRedis.freePort();

    public TestRedisSentinel(TestRedis master) {
        sentinel = RedisSentinel.newRedisSentinel()
                .executableProvider(TestRedis.executable())
                .bind(master.host())
                .port(port)
                .setting("sentinel monitor " + MASTER + " " + master.host() + " " + master.port() + " 1")
                .setting("sentinel down-after-milliseconds " + MASTER + " 5000")
                .build();
        try {
            sentinel.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start redis sentinel", e);
        }
    }

    /** {@code host:port} for spring.data.redis.sentinel.nodes. */
    public String node() {
        return "127.0.0.1:" + port;
    }

    @Override
    public void close() {
        try {
            sentinel.stop();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
