package dev.kvshare.promptcache;

import static dev.kvshare.promptcache.PromptCacheReplicaIT.cached;
import static dev.kvshare.promptcache.PromptCacheReplicaIT.ids;
import static dev.kvshare.promptcache.PromptCacheReplicaIT.json;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;

import dev.kvshare.model.ModelFingerprint;
import dev.kvshare.testsupport.Instance;
import dev.kvshare.testsupport.TestModels;
import dev.kvshare.testsupport.TestPrompts;
import dev.kvshare.testsupport.TestRedis;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;

/**
 * Exactness of restored prefixes on every model (a repeated prompt computes only its last token), single flight,
 * warm-up, the admin endpoint, model isolation.
 */
class PromptCacheLocalIT {

    static final int BLOCK = 8;

    @ParameterizedTest
    @ValueSource(strings = {TestModels.GPT2, TestModels.LLAMA, TestModels.BUNDLED})
    void restoredPrefixesDecodeExactlyLikeColdRunsAcrossBlockBoundaries(String model) {
        Map<String, Object> properties = Map.of("kvshare.prompt-cache.block-size", BLOCK,
                "kvshare.model.path", model.equals(TestModels.BUNDLED) ? "" : TestModels.reference(model));
        try (Instance instance = Instance.start(properties)) {
            // Shorter than a block, exactly a block and one, block boundaries either side, several blocks.
            for (int length : new int[] {5, 8, 9, 16, 17, 18, 41}) {
                int[] prompt = IntStream.range(0, length).map(i -> (i * 53 + length) % 900).toArray();
                JsonNode cold = complete(instance, prompt);
                JsonNode warm = complete(instance, prompt);
                assertThat(cached(cold)).as("first time, %d tokens", length).isZero();
                // The finished first run kept its partial last block: only the last prompt token is computed.
                assertThat(cached(warm)).as("again, %d tokens", length).isEqualTo(length - 1);
                assertThat(tokens(warm)).as("%d tokens", length).containsExactlyElementsOf(tokens(cold));
            }
        }
    }

    @Test
    void concurrentRequestsMissingTheSamePrefixComputeItOnce() {
        try (Instance instance = Instance.start(Map.of("kvshare.model.path", TestModels.reference(TestModels.LLAMA),
                "kvshare.prompt-cache.block-size", 16, "kvshare.generation.max-concurrent", 4))) {
            int[] prompt = IntStream.range(0, 1200).map(i -> (i * 7 + 1) % 30000).toArray();
            List<CompletableFuture<JsonNode>> requests = IntStream.range(0, 4)
                    .mapToObj(i -> CompletableFuture.supplyAsync(() -> complete(instance, prompt))).toList();
            List<Integer> cachedTokens = requests.stream().map(CompletableFuture::join)
                    .map(PromptCacheReplicaIT::cached).sorted().toList();
            int full = (prompt.length - 1) / 16 * 16;
            // The others restore at least the leader's full blocks (its partial tail too, once it has finished).
            assertThat(cachedTokens.get(0)).isZero();
            assertThat(cachedTokens.subList(1, 4)).allSatisfy(cached -> assertThat(cached).isBetween(full,
                    prompt.length - 1));
        }
    }

    @Test
    void warmUpStoresTheSystemPromptBeforeTheFirstRequest() {
        String system = TestPrompts.SUPPORT;
        try (Instance instance = Instance.start(Map.of("kvshare.prompt-cache.block-size", 16,
                "kvshare.prompt-cache.warmup[0].system", system,
                "management.endpoints.web.exposure.include", "health,promptcache"))) {
            JsonNode first = instance.http().post("/v1/chat/completions", """
                    {"messages": [{"role": "system", "content": %s}, {"role": "user", "content": "hi"}],
                     "max_tokens": 2}""".formatted(json(system))).json();
            assertThat(cached(first)).isGreaterThan(600);

            JsonNode stats = instance.http().get("/actuator/promptcache").json();
            assertThat(stats.path("localEntries").asInt()).isPositive();
            assertThat(stats.path("localHits").asInt()).isPositive();
            assertThat(instance.http().delete("/actuator/promptcache").status()).isEqualTo(200);
            assertThat(instance.http().get("/actuator/promptcache").json().path("localEntries").asInt()).isZero();
            JsonNode warmed = instance.http().post("/actuator/promptcache", "{\"system\": " + json(system) + "}").json();
            assertThat(warmed.path("tokens").asInt()).isGreaterThan(600);
            assertThat(instance.http().get("/actuator/promptcache").json().path("localEntries").asInt()).isPositive();
        }
    }

    @Test
    void anotherModelVersionNeverReadsTheseEntries(@TempDir Path copy) throws Exception {
        Path original = TestModels.reference(TestModels.LLAMA);
        try (var files = Files.list(original)) {
            for (Path file : files.toList()) {
                Files.copy(file, copy.resolve(file.getFileName()));
            }
        }
        // Same weights and tokenizer, one changed config byte: a new fingerprint.
        Files.writeString(copy.resolve("genai_config.json"), Files.readString(copy.resolve("genai_config.json")) + " ");
        try (TestRedis redis = new TestRedis().start()) {
            Map<String, Object> shared = Map.of("kvshare.prompt-cache.block-size", BLOCK,
                    "kvshare.prompt-cache.redis.enabled", true, "spring.data.redis.host", redis.host(),
                    "spring.data.redis.port", redis.port());
            int[] prompt = IntStream.range(0, 40).toArray();
            try (Instance first = Instance.start(with(shared, original))) {
                JsonNode stored = complete(first, prompt);
                RedisKeys.awaitAll(redis, RedisKeys.chainKeys(ModelFingerprint.of(original).digest(), BLOCK,
                        ids(stored.path("prompt_token_ids")), CacheNamespace.salt(CacheNamespace.ANONYMOUS, null)));
            }
            try (Instance other = Instance.start(with(shared, copy))) {
                assertThat(cached(complete(other, prompt))).isZero();
            }
        }
    }

    private static Map<String, Object> with(Map<String, Object> properties, Path model) {
        var all = new java.util.HashMap<>(properties);
        all.put("kvshare.model.path", model);
        return all;
    }

    private static JsonNode complete(Instance instance, int[] prompt) {
        var response = instance.http().post("/v1/completions", """
                {"prompt": %s, "max_tokens": 8, "temperature": 0, "ignore_eos": true, "return_token_ids": true}"""
                .formatted(Arrays.toString(prompt)));
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        return response.json();
    }

    private static List<Integer> tokens(JsonNode response) {
        return ids(response.path("choices").path(0).path("token_ids"));
    }
}
