package dev.kvshare.promptcache;

import static dev.kvshare.promptcache.PromptCacheReplicaIT.cached;
import static dev.kvshare.promptcache.PromptCacheReplicaIT.ids;
import static dev.kvshare.promptcache.PromptCacheReplicaIT.json;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import dev.kvshare.testsupport.Instance;
import dev.kvshare.testsupport.TestPrompts;
import dev.kvshare.testsupport.TestRedisCluster;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** The replica-sharing scenario (bundled model, a support bot's system prompt) on a real three-master Redis Cluster. */
class PromptCacheClusterIT {

    @Test
    void replicasShareThroughARedisClusterWithTheChainSpreadOverItsMasters() throws Exception {
        try (TestRedisCluster cluster = new TestRedisCluster(3).start()) {
            Map<String, Object> properties = Map.of("kvshare.prompt-cache.block-size", 16,
                    "kvshare.prompt-cache.redis.enabled", true,
                    "spring.data.redis.cluster.nodes", cluster.nodeList());
            try (Instance a = Instance.start(properties); Instance b = Instance.start(properties);
                 Instance reference = Instance.start(Map.of("kvshare.prompt-cache.enabled", false))) {
                chat(a, "Where is my refund for order 4417203?");
                long expectedKeys = (ids(chat(reference, "x").path("prompt_token_ids")).size() - 1) / 16;
                for (int i = 0; i < 100 && cluster.keysPerNode().stream().mapToLong(Long::longValue).sum()
                        < expectedKeys; i++) {
                    Thread.sleep(50);
                }
                assertThat(cluster.keysPerNode()).as("keys per master").filteredOn(n -> n > 0).hasSizeGreaterThan(1);

                JsonNode restored = chat(b, "My parcel arrived damaged.");
                assertThat(cached(restored)).isGreaterThan(600);
                assertThat(b.metric("kvshare_prompt_tokens_total", "source=\"redis\"")).isEqualTo(cached(restored));
                assertThat(ids(restored.path("choices").path(0).path("token_ids"))).containsExactlyElementsOf(
                        ids(chat(reference, "My parcel arrived damaged.").path("choices").path(0).path("token_ids")));
                assertThat(b.http().get("/actuator/health").json().path("components").path("promptCache")
                        .path("status").asString()).isEqualTo("UP");
            }
        }
    }

    private static JsonNode chat(Instance instance, String user) {
        var response = instance.http().post("/v1/chat/completions", """
                {"messages": [{"role": "system", "content": %s}, {"role": "user", "content": %s}],
                 "max_tokens": 8, "temperature": 0, "ignore_eos": true, "return_token_ids": true}"""
                .formatted(json(TestPrompts.SUPPORT), json(user)));
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        return response.json();
    }
}
