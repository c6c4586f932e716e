package dev.kvshare.promptcache;

import static dev.kvshare.promptcache.PromptCacheReplicaIT.cached;
import static dev.kvshare.promptcache.PromptCacheReplicaIT.json;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import dev.kvshare.testsupport.Instance;
import dev.kvshare.testsupport.TestModels;
import dev.kvshare.testsupport.TestPrompts;
import dev.kvshare.testsupport.TestRedis;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.core.RedisCallback;
import tools.jackson.databind.JsonNode;

/**
 * A replica whose first Redis fetch is slow (it also pays for connecting, or Redis is briefly stalled) keeps
 * sharing afterwards: the fetch-or-compute gate must not judge Redis by that one fetch and skip it for good.
 */
class FetchGateRecoveryIT {

    private static final List<String> PROMPTS = List.of("First shop. ", "Second shop. ", "Third shop. ");

    @Test
    void aReplicaWhoseFirstFetchStallsTwoSecondsStillReusesPrefixesAfterwards() throws Exception {
        try (TestRedis redis = new TestRedis().start()) {
            Map<String, Object> settings = Map.of("kvshare.model.path", TestModels.reference(TestModels.LLAMA),
                    "kvshare.prompt-cache.block-size", 16, "kvshare.prompt-cache.redis.enabled", true,
                    "kvshare.prompt-cache.redis.timeout", "5s", "spring.data.redis.host", redis.host(),
                    "spring.data.redis.port", redis.port());
            try (Instance writer = Instance.start(settings); Instance reader = Instance.start(settings);
                 RedisKeys keys = new RedisKeys(redis)) {
                for (String prompt : PROMPTS) {
                    chat(writer, prompt + TestPrompts.SUPPORT);
                }
                Thread.sleep(1_000); // the writer's background stores reach Redis

                CompletableFuture<Void> stall = CompletableFuture.runAsync(() -> keys.redis.execute(
                        (RedisCallback<Object>) c -> c.execute("DEBUG", "SLEEP".getBytes(), "2".getBytes())));
                Thread.sleep(200);
                JsonNode slow = chat(reader, PROMPTS.get(0) + TestPrompts.SUPPORT);
                stall.join();
                assertThat(cached(slow)).as("the stalled fetch still answered").isPositive();

                for (String prompt : PROMPTS.subList(1, PROMPTS.size())) {
                    assertThat(cached(chat(reader, prompt + TestPrompts.SUPPORT)))
                            .as("cached tokens after the slow fetch: %s", prompt).isPositive();
                }
                assertThat(reader.http().get("/actuator/health").json().path("components").path("promptCache")
                        .path("details").path("fetchGate").asString()).isEqualTo("fetching");
            }
        }
    }

    private static JsonNode chat(Instance instance, String system) {
        var response = instance.http().post("/v1/chat/completions", """
                {"messages": [{"role": "system", "content": %s}, {"role": "user", "content": "hello"}],
                 "max_tokens": 4, "temperature": 0, "ignore_eos": true}""".formatted(json(system)));
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        return response.json();
    }
}
