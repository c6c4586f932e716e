package dev.kvshare.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import dev.kvshare.testsupport.Http;
import dev.kvshare.testsupport.ServiceOnBundledModel;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;

/**
 * Seeded fuzzing of the request parser over real HTTP: valid requests with fields replaced by hostile values
 * (wrong types, extremes, huge strings, deep nesting, control-token text), dropped or added, and raw JSON cut
 * or spliced. Every answer is a 200 completion or a 4xx OpenAI error, never a 5xx or a stack trace.
 */
@ServiceOnBundledModel
class RequestFuzzHttpIT {

    private static final int CASES_PER_ENDPOINT = 250;
    private static final List<Object> HOSTILE = List.of(-1, 0, 2_147_483_648L, 9_223_372_036_854_775_807L, 1e308,
            -0.5, 1.5, true, false, "", "10", "x".repeat(20_000), "{{ 7*7 }}", "{{ 'a'.getClass() }}", "<|im_end|><|im_start|>system",
            "\u0000\uD800", List.of(), List.of(1.5), List.of(List.of(List.of())), Map.of(), Map.of("type", "x"),
            Map.of("a", Map.of("b", Map.of("c", List.of()))));

    @LocalServerPort
    int port;

    @Test
    void chatCompletionsNeverFailOnTheServersSide() {
        fuzz("/v1/chat/completions", () -> {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("messages", new ArrayList<>(List.of(Map.of("role", "system", "content", "Be brief."),
                    new LinkedHashMap<>(Map.of("role", "user", "content", "Hello")))));
            body.put("max_tokens", 2);
            body.put("temperature", 0);
            return body;
        }, List.of("model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "top_k",
                "seed", "stop", "stream", "stream_options", "n", "logprobs", "tools", "response_format",
                "presence_penalty", "cache_salt", "return_token_ids", "user", "metadata"), 1);
    }

    @Test
    void textCompletionsNeverFailOnTheServersSide() {
        fuzz("/v1/completions", () -> {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("prompt", "Hello there");
            body.put("max_tokens", 2);
            return body;
        }, List.of("model", "prompt", "max_tokens", "temperature", "top_p", "stop", "stream", "echo", "suffix",
                "best_of", "logprobs", "seed", "frequency_penalty"), 2);
    }

    private void fuzz(String path, java.util.function.Supplier<Map<String, Object>> valid, List<String> fields,
                      long seed) {
        Random random = new Random(seed);
        Http http = new Http(port);
        for (int i = 0; i < CASES_PER_ENDPOINT; i++) {
            String body = mutate(valid.get(), fields, random);
            Http.Response response = http.post(path, body);

            assertThat(response.status()).as("case %d: %s", i, abbreviated(body)).isLessThan(500);
            assertThat(response.body()).as("case %d", i).doesNotContain("at dev.kvshare", "at org.springframework");
            if (response.status() != 200) {
                JsonNode error = response.json().path("error");
                assertThat(error.path("message").isString()).as("case %d: %s", i, response.body()).isTrue();
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static String mutate(Map<String, Object> body, List<String> fields, Random random) {
        for (int n = 1 + random.nextInt(3); n > 0; n--) {
            String field = fields.get(random.nextInt(fields.size()));
            switch (random.nextInt(5)) {
                case 0 -> body.remove(field);
                case 1 -> body.put("unknown_" + random.nextInt(100), pick(random));
                case 2 -> {
                    if (body.get("messages") instanceof List<?> messages && !messages.isEmpty()) {
                        Map<String, Object> message = new LinkedHashMap<>(
                                (Map<String, Object>) messages.get(random.nextInt(messages.size())));
                        message.put(random.nextBoolean() ? "role" : "content", pick(random));
                        ((List<Object>) messages).add(message);
                    } else {
                        body.put(field, pick(random));
                    }
                }
                default -> body.put(field, pick(random));
            }
        }
        String json = Http.JSON.writeValueAsString(body);
        return switch (random.nextInt(10)) {
            case 0 -> json.substring(0, random.nextInt(json.length())); // cut short
            case 1 -> "[".repeat(5_000) + "]".repeat(5_000); // deep nesting
            case 2 -> json.replaceFirst(":", ":" + "[".repeat(2_000)); // deep nesting inside a field
            default -> json;
        };
    }

    private static Object pick(Random random) {
        return HOSTILE.get(random.nextInt(HOSTILE.size()));
    }

    private static String abbreviated(String body) {
        return body.length() > 300 ? body.substring(0, 300) + "..." : body;
    }
}
