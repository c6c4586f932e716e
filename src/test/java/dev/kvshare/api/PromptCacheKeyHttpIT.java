package dev.kvshare.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import dev.kvshare.testsupport.Http;
import dev.kvshare.testsupport.Instance;
import dev.kvshare.testsupport.TestPrompts;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** OpenAI's {@code prompt_cache_key} narrows prompt-cache sharing like {@code cache_salt}; retention is checked. */
class PromptCacheKeyHttpIT {

    @Test
    void requestsShareCachedPrefixesOnlyUnderTheSamePromptCacheKey() {
        try (Instance instance = Instance.start(Map.of("kvshare.prompt-cache.block-size", 16))) {
            assertThat(cached(chat(instance, "first", "user-1", "in_memory"))).isZero();
            assertThat(cached(chat(instance, "second", "user-2", "24h"))).isZero();
            assertThat(cached(chat(instance, "third", null, null))).isZero();
            assertThat(cached(chat(instance, "fourth", "user-1", null))).isGreaterThan(600);

            Http.Response tooLong = instance.http().post("/v1/chat/completions", body("x", "k".repeat(1025), null));
            assertThat(tooLong.status()).isEqualTo(400);
            assertThat(tooLong.json().path("error").path("param").asString()).isEqualTo("prompt_cache_key");
            Http.Response notAString = instance.http().post("/v1/chat/completions", """
                    {"messages": [{"role": "user", "content": "hi"}], "prompt_cache_key": 7}""");
            assertThat(notAString.status()).isEqualTo(400);
        }
    }

    private static JsonNode chat(Instance instance, String user, String key, String retention) {
        Http.Response response = instance.http().post("/v1/chat/completions", body(user, key, retention));
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        return response.json();
    }

    private static String body(String user, String key, String retention) {
        return """
                {"messages": [{"role": "system", "content": %s}, {"role": "user", "content": %s}],
                 "max_tokens": 2%s%s}""".formatted(Http.JSON.writeValueAsString(TestPrompts.SUPPORT),
                Http.JSON.writeValueAsString(user),
                key == null ? "" : ", \"prompt_cache_key\": " + Http.JSON.writeValueAsString(key),
                retention == null ? "" : ", \"prompt_cache_retention\": \"" + retention + "\"");
    }

    private static int cached(JsonNode response) {
        return response.path("usage").path("prompt_tokens_details").path("cached_tokens").asInt();
    }
}
