package dev.kvshare.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import dev.kvshare.generation.GenerationService;
import dev.kvshare.testsupport.Http;
import dev.kvshare.testsupport.Instance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;

/**
 * Eight streaming clients at once get the tokens each gets alone, with one sequence per pass
 * ({@code max-batch-size=1}) and with batched passes, greedy and seeded alike; prompts share a prefix,
 * so all but the first restore it from the prompt cache and join the batch as restored rows.
 */
class BatchModesHttpIT {

    private static final int CLIENTS = 8;

    @ParameterizedTest(name = "max-batch-size {0}")
    @ValueSource(ints = {1, 8})
    void concurrentStreamsGetTheTokensTheyGetAlone(int maxBatchSize) throws Exception {
        try (Instance instance = Instance.start(Map.of("kvshare.generation.max-concurrent", CLIENTS,
                "kvshare.generation.max-batch-size", maxBatchSize, "kvshare.prompt-cache.enabled", true,
                "kvshare.prompt-cache.block-size", 16))) {
            assertThat(instance.bean(GenerationService.class).batching()).isEqualTo(maxBatchSize > 1);
            Http http = instance.http();
            double idleTensors = instance.metric("kvshare_model_live_tensors");
            List<List<Integer>> alone = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                alone.add(tokens(http.post("/v1/completions", request(i))));
            }
            ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
            List<Future<Http.Response>> together = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                String body = request(i);
                together.add(clients.submit(() -> http.post("/v1/completions", body)));
            }
            int restored = 0;
            for (int i = 0; i < CLIENTS; i++) {
                Http.Response response = together.get(i).get();
                assertThat(tokens(response)).as("client %d", i).containsExactlyElementsOf(alone.get(i));
                List<JsonNode> events = response.events();
                restored += events.get(events.size() - 1).path("usage").path("prompt_tokens_details")
                        .path("cached_tokens").asInt() > 0 ? 1 : 0;
            }
            clients.shutdown();
            assertThat(restored).as("clients whose prompt prefix came from the prompt cache").isEqualTo(CLIENTS);
            double largestPass = instance.metric("kvshare_batch_size_max");
            if (maxBatchSize == 1) {
                assertThat(instance.metric("kvshare_batch_size_count")).as("batched passes").isZero();
            } else {
                assertThat(largestPass).as("rows of the largest batched pass").isGreaterThan(1);
            }
            assertThat(instance.metric("kvshare_model_live_tensors")).as("native tensors once idle")
                    .isEqualTo(idleTensors);
        }
    }

    /** Shared prefix, different tails and lengths; odd clients sample with a seed. */
    private static String request(int client) {
        String sampling = client % 2 == 0 ? "\"temperature\": 0" : "\"temperature\": 0.9, \"seed\": " + (100 + client);
        return """
                {"prompt": "Customer support transcript. The customer writes about their order and the agent \
                answers politely and briefly. Order %d: %s", "max_tokens": %d, %s, "ignore_eos": true,
                 "return_token_ids": true, "stream": true, "stream_options": {"include_usage": true}}"""
                .formatted(client, "the parcel is late ".repeat(client + 1), 6 + 5 * client, sampling);
    }

    private static List<Integer> tokens(Http.Response response) {
        assertThat(response.status()).isEqualTo(200);
        List<Integer> tokens = new ArrayList<>();
        for (JsonNode event : response.events()) {
            for (JsonNode choice : event.path("choices")) {
                choice.path("token_ids").forEach(id -> tokens.add(id.asInt()));
            }
        }
        return tokens;
    }
}
