package dev.kvshare.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;

import dev.kvshare.testsupport.Instance;
import dev.kvshare.testsupport.TestModels;
import dev.kvshare.testsupport.TestRedis;
import dev.kvshare.testsupport.TestRedisCluster;
import dev.kvshare.testsupport.TestRedisSentinel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.api.parallel.ResourceAccessMode;
import org.junit.jupiter.api.parallel.ResourceLock;
import org.junit.jupiter.api.parallel.Resources;

/** The ready-made files in config/ start the application as documented. */
// Beside the serial integration tests (its own applications and Redis), but never during one that captures the
// output (docs/architecture.md, Tests); its tests one after another, as two services at once would only compete.
@Execution(ExecutionMode.CONCURRENT)
@ResourceLock(value = Resources.SYSTEM_OUT, mode = ResourceAccessMode.READ)
class ConfigProfilesIT {

    private static String config(String file) {
        return "file:" + Path.of("config", file).toAbsolutePath();
    }

    private static final String CHAT = """
            {"messages": [{"role": "user", "content": "hello"}], "max_tokens": 2}""";

    @Execution(ExecutionMode.SAME_THREAD)
    @Test
    void singleNodeRunsWithoutRedis() {
        try (Instance instance = Instance.start(Map.of("spring.config.additional-location", config("single-node.yml"),
                "kvshare.model.path", TestModels.reference(TestModels.LLAMA)))) {
            assertThat(instance.http().post("/v1/chat/completions", CHAT).status()).isEqualTo(200);
            assertThat(instance.http().get("/actuator/health").json().path("components").path("promptCache")
                    .path("details").path("redis").asString()).isEqualTo("disabled");
        }
    }

    @Execution(ExecutionMode.SAME_THREAD)
    @Test
    void replicasProfileUsesTheRedisItIsPointedAt() {
        try (TestRedis redis = new TestRedis().start();
             Instance instance = Instance.start(Map.of("spring.config.additional-location",
                     config("replicas-redis.yml"), "kvshare.model.path", TestModels.reference(TestModels.LLAMA),
                     "REDIS_HOST", redis.host(), "REDIS_PORT", redis.port(),
                     "kvshare.prompt-cache.hmac-key", "a-shared-secret"))) {
            assertThat(instance.http().post("/v1/chat/completions", CHAT).status()).isEqualTo(200);
            var details = instance.http().get("/actuator/health").json().path("components").path("promptCache")
                    .path("details");
            assertThat(details.path("redis").asString()).isEqualTo("reachable");
            assertThat(details.path("frames").asString()).isEqualTo("signed");
        }
    }

    @Execution(ExecutionMode.SAME_THREAD)
    @Test
    void replicasProfileAcceptsAnEncryptionKeyInsteadOfAnHmacKey() {
        try (TestRedis redis = new TestRedis().start();
             Instance instance = Instance.start(Map.of("spring.config.additional-location",
                     config("replicas-redis.yml"), "kvshare.model.path", TestModels.reference(TestModels.LLAMA),
                     "REDIS_HOST", redis.host(), "REDIS_PORT", redis.port(),
                     "kvshare.prompt-cache.encryption-key", "0123456789abcdef".repeat(4)))) {
            assertThat(instance.http().post("/v1/chat/completions", CHAT).status()).isEqualTo(200);
            assertThat(instance.http().get("/actuator/health").json().path("components").path("promptCache")
                    .path("details").path("frames").asString()).isEqualTo("encrypted");
        }
    }

    @Execution(ExecutionMode.SAME_THREAD)
    @Test
    void aMalformedEncryptionKeyFailsStartUpNamingTheProperty() {
        assertThatThrownBy(() -> Instance.start(Map.of("kvshare.model.path", TestModels.reference(TestModels.LLAMA),
                "kvshare.prompt-cache.encryption-key", "too-short")).close())
                .hasStackTraceContaining("kvshare.prompt-cache.encryption-key must be 32 bytes");
    }

    @Execution(ExecutionMode.SAME_THREAD)
    @Test
    void replicasProfileRefusesToStartWithoutAnHmacKey() {
        try (TestRedis redis = new TestRedis().start()) {
            assertThatThrownBy(() -> Instance.start(Map.of("spring.config.additional-location",
                    config("replicas-redis.yml"), "kvshare.model.path", TestModels.reference(TestModels.LLAMA),
                    "REDIS_HOST", redis.host(), "REDIS_PORT", redis.port())).close())
                    .hasStackTraceContaining("require-hmac");
        }
    }

    @Execution(ExecutionMode.SAME_THREAD)
    @Test
    void unsignedFramesAreNamedInHealth() {
        try (TestRedis redis = new TestRedis().start();
             Instance instance = Instance.start(Map.of("kvshare.prompt-cache.redis.enabled", true,
                     "kvshare.model.path", TestModels.reference(TestModels.LLAMA),
                     "spring.data.redis.host", redis.host(), "spring.data.redis.port", redis.port()))) {
            assertThat(instance.http().get("/actuator/health").json().path("components").path("promptCache")
                    .path("details").path("frames").asString()).isEqualTo("unsigned");
        }
    }

    @Execution(ExecutionMode.SAME_THREAD)
    @Test
    void clusterProfileUsesTheClusterItIsPointedAt() throws Exception {
        try (TestRedisCluster cluster = new TestRedisCluster(3).start();
             Instance instance = Instance.start(Map.of("spring.config.additional-location",
                     config("redis-cluster.yml"), "kvshare.model.path", TestModels.reference(TestModels.LLAMA),
                     "REDIS_CLUSTER_NODES", cluster.nodeList()))) {
            assertThat(instance.http().post("/v1/chat/completions", CHAT).status()).isEqualTo(200);
            assertThat(redisOf(instance)).isEqualTo("reachable");
        }
    }

    @Execution(ExecutionMode.SAME_THREAD)
    @Test
    void sentinelProfileFindsTheMasterThroughSentinel() throws Exception {
        try (TestRedis master = new TestRedis().start(); TestRedisSentinel sentinel = new TestRedisSentinel(master)) {
            try (Instance instance = Instance.start(Map.of("spring.config.additional-location",
                    config("redis-sentinel.yml"), "kvshare.model.path", TestModels.reference(TestModels.LLAMA),
                    "REDIS_SENTINEL_NODES", sentinel.node(), "REDIS_SENTINEL_MASTER", TestRedisSentinel.MASTER))) {
                assertThat(instance.http().post("/v1/chat/completions", CHAT).status()).isEqualTo(200);
                assertThat(redisOf(instance)).isEqualTo("reachable");
            }
        }
    }

    private static String redisOf(Instance instance) {
        return instance.http().get("/actuator/health").json().path("components").path("promptCache")
                .path("details").path("redis").asString();
    }

    @Execution(ExecutionMode.SAME_THREAD)
    @Test
    void gpuProfileRefusesToStartWithoutCuda() {
        assertThatThrownBy(() -> Instance.start(Map.of("spring.config.additional-location", config("gpu.yml"),
                "kvshare.model.path", TestModels.reference(TestModels.LLAMA))).close())
                .hasStackTraceContaining("CUDA");
    }
}
