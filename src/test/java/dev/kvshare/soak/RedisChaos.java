package dev.kvshare.soak;

import java.time.Duration;
import java.util.List;
import java.util.Random;

import dev.kvshare.testsupport.TestRedis;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.output.StatusOutput;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;

/** What goes wrong with Redis in production, on demand: it restarts, it stalls, its frames get damaged. */
final class RedisChaos {

    enum Fault { RESTART, STALL, CORRUPT }

    private final TestRedis redis;
    private final Random random;
    private int restarts;
    private int stalls;
    private int corruptedFrames;

    RedisChaos(TestRedis redis, Random random) {
        this.redis = redis;
        this.random = random;
    }

    void strike() throws InterruptedException {
        switch (Fault.values()[random.nextInt(Fault.values().length)]) {
            case RESTART -> {
                redis.stop();
                Thread.sleep(1_000 + random.nextInt(3_000));
                redis.start();
                restarts++;
            }
            case STALL -> {
                int seconds = 1 + random.nextInt(2);
                withConnection(c -> c.sync().dispatch(CommandType.DEBUG, new StatusOutput<>(ByteArrayCodec.INSTANCE),
                        new CommandArgs<>(ByteArrayCodec.INSTANCE).add("SLEEP").add(seconds)));
                stalls++;
            }
            case CORRUPT -> withConnection(c -> {
                List<byte[]> keys = c.sync().scan(ScanArgs.Builder.matches("kvshare:*").limit(1000)).getKeys();
                for (int i = 0; i < Math.min(5, keys.size()); i++) {
                    byte[] garbage = new byte[random.nextInt(4096)];
                    random.nextBytes(garbage);
                    c.sync().set(keys.get(random.nextInt(keys.size())), garbage);
                    corruptedFrames++;
                }
            });
        }
    }

    private void withConnection(java.util.function.Consumer<StatefulRedisConnection<byte[], byte[]>> action) {
        RedisURI uri = RedisURI.create(redis.host(), redis.port());
        uri.setTimeout(Duration.ofSeconds(10));
        RedisClient client = RedisClient.create(uri);
        try (StatefulRedisConnection<byte[], byte[]> connection = client.connect(ByteArrayCodec.INSTANCE)) {
            action.accept(connection);
        } finally {
            client.shutdown();
        }
    }

    String summary() {
        return restarts + " restarts, " + stalls + " stalls, " + corruptedFrames + " corrupted frames";
    }
}
