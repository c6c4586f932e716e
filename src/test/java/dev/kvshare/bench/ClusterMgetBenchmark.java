package dev.kvshare.bench;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import dev.kvshare.testsupport.TestRedisCluster;
import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.sync.RedisAdvancedClusterCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * How a prompt's chain is best read from a Redis Cluster: keys as they are (spread over slots; Lettuce
 * splits the MGET by slot and queries the masters in parallel) versus one hash tag per chain (one slot,
 * one MGET on one master). Interleaved, medians. {@code ./mvnw -Pbench test -Dtest=ClusterMgetBenchmark}
 */
@Tag("benchmark")
class ClusterMgetBenchmark {

    @Test
    void spreadKeysVersusOneHashTag() throws Exception {
        int blocks = Integer.getInteger("bench.blocks", 16);
        int valueBytes = Integer.getInteger("bench.value-bytes", 1 << 20);
        int repetitions = Integer.getInteger("bench.repetitions", 30);
        try (TestRedisCluster cluster = new TestRedisCluster(3).start()) {
            List<RedisURI> uris = new ArrayList<>();
            for (String node : cluster.nodeList().split(",")) {
                String[] hostPort = node.split(":");
                uris.add(RedisURI.create(hostPort[0], Integer.parseInt(hostPort[1])));
            }
            RedisClusterClient client = RedisClusterClient.create(uris);
            try (StatefulRedisClusterConnection<byte[], byte[]> connection = client.connect(ByteArrayCodec.INSTANCE)) {
                RedisAdvancedClusterCommands<byte[], byte[]> redis = connection.sync();
                byte[] value = new byte[valueBytes];
                new Random(1).nextBytes(value);
                byte[][] spread = new byte[blocks][];
                byte[][] tagged = new byte[blocks][];
                for (int i = 0; i < blocks; i++) {
                    spread[i] = ("kvshare:v1:fp:block-" + i).getBytes(StandardCharsets.US_ASCII);
                    tagged[i] = ("kvshare:v1:fp:{chain-0}:block-" + i).getBytes(StandardCharsets.US_ASCII);
                    redis.set(spread[i], value);
                    redis.set(tagged[i], value);
                }
                List<Double> spreadMillis = new ArrayList<>();
                List<Double> taggedMillis = new ArrayList<>();
                for (int rep = -3; rep < repetitions; rep++) {
                    double s = time(() -> redis.mget(spread));
                    double t = time(() -> redis.mget(tagged));
                    if (rep >= 0) {
                        spreadMillis.add(s);
                        taggedMillis.add(t);
                    }
                }
                System.out.printf("%nRedis Cluster (3 masters, loopback), MGET of %d values of %d KiB, %d repetitions%n",
                        blocks, valueBytes / 1024, repetitions);
                System.out.printf("%-28s %10s%n", "keys", "median ms");
                System.out.printf("%-28s %10.2f%n", "spread over slots (split)", Report.median(spreadMillis));
                System.out.printf("%-28s %10.2f%n", "one hash tag (one master)", Report.median(taggedMillis));
                System.out.printf("one tag / spread = %.2fx%n", Report.median(taggedMillis) / Report.median(spreadMillis));
            } finally {
                client.shutdown();
            }
        }
    }

    private static double time(Runnable action) {
        long start = System.nanoTime();
        action.run();
        return (System.nanoTime() - start) / 1e6;
    }
}
