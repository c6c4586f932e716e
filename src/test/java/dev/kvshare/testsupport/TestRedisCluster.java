package dev.kvshare.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import org.springframework.util.FileSystemUtils;

/**
 * A real Redis Cluster of three masters on 127.0.0.1 (redis-server processes in cluster mode), slots split
 * evenly, formed with CLUSTER MEET / ADDSLOTS as redis-cli --cluster create would.
 */
public final class TestRedisCluster implements AutoCloseable {

    private static final int SLOTS = 16384;

    private final List<TestRedis> nodes = new ArrayList<>();
    private final Path directory;

    public TestRedisCluster(int masters) {
        try {
            directory = Files.createTempDirectory("kvshare-redis-cluster");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (int i = 0; i < masters; i++) {
            int port = portWithFreeBusPort();
            nodes.add(new TestRedis(port, List.of("cluster-enabled yes",
                    "cluster-config-file " + directory.resolve("nodes-" + port + ".conf"),
                    "cluster-node-timeout 2000")));
        }
    }

    public TestRedisCluster start() throws InterruptedException {
        nodes.forEach(TestRedis::start);
        for (int i = 0; i < nodes.size(); i++) {
            int from = i * SLOTS / nodes.size();
            int to = (i + 1) * SLOTS / nodes.size();
            int[] slots = new int[to - from];
            for (int s = 0; s < slots.length; s++) {
                slots[s] = from + s;
            }
            int index = i;
            withNode(nodes.get(i), commands -> {
                commands.clusterAddSlots(slots);
                nodes.stream().skip(index + 1).forEach(other -> commands.clusterMeet(other.host(), other.port()));
                return null;
            });
        }
        for (int i = 0; i < 200 && !formed(); i++) {
            Thread.sleep(50);
        }
        if (!formed()) {
            throw new IllegalStateException("The test Redis Cluster did not form");
        }
        return this;
    }

    /** {@code host:port,...} for spring.data.redis.cluster.nodes. */
    public String nodeList() {
        return nodes.stream().map(n -> n.host() + ":" + n.port()).collect(Collectors.joining(","));
    }

    /** Keys each master holds, in node order. */
    public List<Long> keysPerNode() {
        return nodes.stream().map(node -> withNode(node, RedisCommands::dbsize)).toList();
    }

    private boolean formed() {
        return nodes.stream().allMatch(node -> withNode(node, RedisCommands::clusterInfo)
                .contains("cluster_state:ok"));
    }

    private static <T> T withNode(TestRedis node, java.util.function.Function<RedisCommands<String, String>, T> action) {
        RedisClient client = RedisClient.create(RedisURI.create(node.host(), node.port()));
        try (StatefulRedisConnection<String, String> connection = client.connect()) {
            return action.apply(connection.sync());
        } finally {
            client.shutdown();
        }
    }

    /** Cluster nodes also listen on port + 10000 (the bus): both must be free and below 65536. */
    private static int portWithFreeBusPort() {
        for (int attempt = 0; attempt < 100; attempt++) {
            int port = 20000 + (int) (Math.random() * 20000);
            if (free(port) && free(port + 10000)) {
                return port;
            }
        }
        throw new IllegalStateException("no free port pair for a cluster node");
    }

    private static boolean free(int port) {
        try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getByName("127.0.0.1"))) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public void close() {
        nodes.forEach(TestRedis::close);
        try {
            // The nodes' cluster config files: a test run leaves nothing in the temp dir.
            FileSystemUtils.deleteRecursively(directory);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
