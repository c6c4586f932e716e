package dev.kvshare.promptcache;

import static dev.kvshare.promptcache.PromptCacheReplicaIT.cached;
import static dev.kvshare.promptcache.PromptCacheReplicaIT.ids;
import static dev.kvshare.promptcache.PromptCacheReplicaIT.json;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import dev.kvshare.model.ModelFingerprint;
import dev.kvshare.testsupport.Instance;
import dev.kvshare.testsupport.TestModels;
import dev.kvshare.testsupport.TestPrompts;
import dev.kvshare.testsupport.TestRedis;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;

/**
 * What an operator reads about the prompt cache, on one instance with a real Redis: the admin endpoint's
 * report of where a system prompt's blocks are, and the prefix-cache token counters under vLLM's names.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PromptCacheResidencyIT {

    static final int BLOCK = 16;
    static final List<String> VLLM_COUNTERS = List.of("vllm:prefix_cache_queries_total",
            "vllm:prefix_cache_hits_total", "vllm:external_prefix_cache_queries_total",
            "vllm:external_prefix_cache_hits_total");

    private TestRedis redis;
    private byte[] fingerprint;
    private Instance instance;
    private String startUpScrape;

    @BeforeAll
    void start() {
        redis = new TestRedis().start();
        fingerprint = ModelFingerprint.of(TestModels.reference(TestModels.LLAMA)).digest();
        instance = Instance.start(Map.of("kvshare.model.path", TestModels.reference(TestModels.LLAMA).toString(),
                "kvshare.prompt-cache.block-size", BLOCK, "kvshare.prompt-cache.redis.enabled", true,
                "spring.data.redis.host", redis.host(), "spring.data.redis.port", redis.port(),
                "management.endpoints.web.exposure.include", "health,prometheus,promptcache"));
        startUpScrape = instance.http().get("/actuator/prometheus").body();
    }

    @AfterAll
    void stop() {
        instance.close();
        redis.close();
    }

    @Test
    void theVllmCountersExistAtZeroFromStartUpAndCountTokensByTier() throws Exception {
        for (String counter : VLLM_COUNTERS) {
            assertThat(startUpScrape).containsPattern("(?m)^" + counter + "\\{.*model_name=\"[^\"]+\".*\\} 0\\.0$");
        }
        Map<String, Double> before = new java.util.HashMap<>();
        for (String counter : VLLM_COUNTERS) {
            before.put(counter, instance.metric(counter));
        }
        double redisBefore = instance.metric("kvshare_prompt_tokens_total", "source=\"redis\"");

        String system = "Counters. " + TestPrompts.SUPPORT;
        JsonNode first = chat(system, "Where is my parcel?");
        RedisKeys.awaitAll(redis, RedisKeys.chainKeys(fingerprint, BLOCK, ids(first.path("prompt_token_ids")),
                CacheNamespace.salt(CacheNamespace.ANONYMOUS, null)));
        instance.http().delete("/actuator/promptcache");
        JsonNode second = chat(system, "Can I pay by invoice?");
        JsonNode third = chat(system, "Do you ship abroad?");

        int prompts = prompt(first) + prompt(second) + prompt(third);
        assertThat(cached(second)).isPositive();
        assertThat(increase("vllm:prefix_cache_queries_total", before)).isEqualTo(prompts);
        assertThat(increase("vllm:external_prefix_cache_hits_total", before)).isEqualTo(cached(second));
        assertThat(increase("vllm:prefix_cache_hits_total", before)).isEqualTo(cached(third));
        // Each lookup lacked blocks locally (at least its own question's), so each asked Redis.
        assertThat(increase("vllm:external_prefix_cache_queries_total", before)).isEqualTo(prompts);
        assertThat(instance.metric("kvshare_prompt_tokens_total", "source=\"redis\"") - redisBefore)
                .isEqualTo(cached(second));
    }

    @Test
    void theAdminEndpointReportsWhereASystemPromptsBlocksAre() throws Exception {
        String system = "Residency. " + TestPrompts.SUPPORT;
        JsonNode before = residency(system, null);
        int blocks = before.path("blocks").asInt();
        assertThat(blocks).isGreaterThan(10);
        assertThat(before.path("cacheableTokens").asInt()).isEqualTo(blocks * BLOCK)
                .isLessThanOrEqualTo(before.path("tokens").asInt());
        assertThat(before.path("localBlocks").asInt()).isZero();
        assertThat(before.path("redisBlocks").asInt()).isZero();
        assertThat(before.path("redis").asString()).isEqualTo("CLOSED");

        JsonNode first = chat(system, "Hello");
        RedisKeys.awaitAll(redis, RedisKeys.chainKeys(fingerprint, BLOCK, ids(first.path("prompt_token_ids")),
                CacheNamespace.salt(CacheNamespace.ANONYMOUS, null)));
        JsonNode after = residency(system, null);
        assertThat(after.path("localBlocks").asInt()).isEqualTo(blocks);
        assertThat(after.path("redisBlocks").asInt()).isEqualTo(blocks);
        // The same prompt of another tenant is another chain.
        assertThat(residency(system, "acme").path("redisBlocks").asInt()).isZero();

        instance.http().delete("/actuator/promptcache");
        JsonNode evicted = residency(system, null);
        assertThat(evicted.path("localBlocks").asInt()).isZero();
        assertThat(evicted.path("redisBlocks").asInt()).isEqualTo(blocks);
        // Reading the report moved nothing into the local tier.
        assertThat(residency(system, null).path("localBlocks").asInt()).isZero();

        assertThat(instance.http().post("/actuator/promptcache/residency", "{}").status()).isEqualTo(400);
        assertThat(instance.http().post("/actuator/promptcache/nonsense", "{\"system\": \"a\"}").status())
                .isEqualTo(400);
    }

    private JsonNode residency(String system, String tenant) {
        var response = instance.http().post("/actuator/promptcache/residency", "{\"system\": " + json(system)
                + (tenant == null ? "" : ", \"tenant\": " + json(tenant)) + "}");
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        return response.json();
    }

    private JsonNode chat(String system, String user) {
        var response = instance.http().post("/v1/chat/completions", """
                {"messages": [{"role": "system", "content": %s}, {"role": "user", "content": %s}],
                 "max_tokens": 4, "temperature": 0, "return_token_ids": true}""".formatted(json(system), json(user)));
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        return response.json();
    }

    private double increase(String counter, Map<String, Double> before) {
        return instance.metric(counter) - before.get(counter);
    }

    private static int prompt(JsonNode response) {
        return response.path("usage").path("prompt_tokens").asInt();
    }
}
