package dev.kvshare.api;

import static dev.kvshare.api.CompletionsHttpIT.ids;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;

import dev.kvshare.testsupport.Http;
import dev.kvshare.testsupport.ServiceOnLlama;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;

/** Chat completions and request errors over real HTTP, on the Llama reference export (split fp16 KV). */
@ServiceOnLlama
class ChatHttpIT {

    @LocalServerPort
    int port;

    Http http() {
        return new Http(port);
    }

    @Test
    void greedyCompletionOfTokenIdsReproducesTheKnownGoodIds() {
        JsonNode body = http().post("/v1/completions", """
                {"prompt": [0, 0, 0, 52], "max_tokens": 6, "temperature": 0, "return_token_ids": true,
                 "ignore_eos": true}""").json();
        assertThat(ids(body.path("choices").path(0).path("token_ids")))
                .containsExactly(12102, 30463, 4666, 17192, 3266, 18061);
    }

    @Test
    void chatIsRenderedWithTheModelsOwnTemplate() {
        JsonNode body = http().post("/v1/chat/completions", """
                {"model": "tiny-random-llama-fp16", "max_tokens": 4, "temperature": 0, "ignore_eos": true,
                 "return_token_ids": true,
                 "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]}""")
                .json();
        assertThat(body.path("object").asString()).isEqualTo("chat.completion");
        assertThat(body.path("choices").path(0).path("message").path("role").asString()).isEqualTo("assistant");
        // <s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] starts with BOS (id 1 here is </s>, 0 is <unk>...)
        List<Integer> prompt = ids(body.path("prompt_token_ids"));
        assertThat(prompt).hasSize(body.path("usage").path("prompt_tokens").asInt()).hasSizeGreaterThan(10);
        assertThat(body.path("usage").path("completion_tokens").asInt()).isEqualTo(4);
    }

    @Test
    void concurrentStreamsEachMatchTheirSequentialOutput() {
        List<String> requests = IntStream.range(0, 6).mapToObj(i -> """
                {"messages": [{"role": "user", "content": "Question number %d about my order"}], "max_tokens": 24,
                 "temperature": 0.8, "seed": %d, "ignore_eos": true, "stream": true}""".formatted(i, i)).toList();
        List<String> sequential = requests.stream().map(this::streamedText).toList();
        List<CompletableFuture<String>> parallel = requests.stream()
                .map(r -> CompletableFuture.supplyAsync(() -> streamedText(r))).toList();
        assertThat(parallel.stream().map(CompletableFuture::join).toList()).containsExactlyElementsOf(sequential);
        assertThat(sequential).doesNotHaveDuplicates();
    }

    @Test
    void aSeedMakesSamplingReproducible() {
        String request = """
                {"messages": [{"role": "user", "content": "Refund please"}], "max_tokens": 16, "temperature": 1.0,
                 "top_p": 0.9, "top_k": 50, "seed": %d, "ignore_eos": true}""";
        String first = content(http().post("/v1/chat/completions", request.formatted(7)).json());
        assertThat(content(http().post("/v1/chat/completions", request.formatted(7)).json())).isEqualTo(first);
        assertThat(content(http().post("/v1/chat/completions", request.formatted(8)).json())).isNotEqualTo(first);
    }

    @Test
    void stopStringEndsTheCompletionAndIsNotReturned() {
        String base = """
                {"prompt": [0, 0, 0, 52], "max_tokens": 12, "temperature": 0, "ignore_eos": true%s}""";
        String full = http().post("/v1/completions", base.formatted("")).json()
                .path("choices").path(0).path("text").asString();
        assertThat(full.length()).isGreaterThan(4);
        String stop = full.substring(full.length() / 2, full.length() / 2 + 2);
        JsonNode stopped = http().post("/v1/completions",
                base.formatted(", \"stop\": " + Http.JSON.writeValueAsString(stop))).json();
        assertThat(stopped.path("choices").path(0).path("text").asString()).isEqualTo(full.substring(0, full.indexOf(stop)));
        assertThat(stopped.path("choices").path(0).path("finish_reason").asString()).isEqualTo("stop");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"model\": \"tiny-random-llama-fp16\"}",
            "{\"messages\": []}",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": -1}",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 5000}",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"model\": \"gpt-4o\"}",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"temperature\": 7}",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"n\": 3}",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"stop\": [\"a\", \"b\", \"c\", \"d\", \"e\"]}",
            "{\"messages\": 5}",
            "{\"messages\": [{\"role\": \"user\", \"content\": {\"nested\": true}}]}",
            "{\"messages\": [{\"content\": \"no role\"}]}",
            "{\"messages\": [{\"role\": \"assistant\", \"content\": \"roles must alternate\"}]}",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": \"many\"}",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}",
            "not json at all"})
    void badChatRequestsGet400WithAnOpenAiErrorBody(String body) {
        Http.Response response = http().post("/v1/chat/completions", body);
        assertThat(response.status()).as(response.body()).isEqualTo(400);
        JsonNode error = response.json().path("error");
        assertThat(error.path("message").asString()).isNotBlank().doesNotContain("\tat ");
        assertThat(error.path("type").asString()).isEqualTo("invalid_request_error");
        assertThat(error.has("param")).isTrue();
        assertThat(error.has("code")).isTrue();
    }

    @Test
    void promptLongerThanTheContextIs400() {
        String longText = "word ".repeat(2100);
        Http.Response response = http().post("/v1/completions",
                "{\"prompt\": " + Http.JSON.writeValueAsString(longText) + ", \"max_tokens\": 1}");
        assertThat(response.status()).isEqualTo(400);
        assertThat(response.json().path("error").path("message").asString()).contains("maximum context length is 2048");
    }

    @Test
    void unknownModelIsNamedInTheError() {
        JsonNode error = http().post("/v1/completions", "{\"model\": \"nope\", \"prompt\": \"hi\"}").json().path("error");
        assertThat(error.path("code").asString()).isEqualTo("model_not_found");
        assertThat(error.path("param").asString()).isEqualTo("model");
    }

    @Test
    void healthGroupsAndMetricsAreExposed() {
        JsonNode liveness = http().get("/actuator/health/liveness").json();
        assertThat(liveness.path("status").asString()).isEqualTo("UP");
        assertThat(liveness.path("components").path("generation").path("status").asString()).isEqualTo("UP");
        JsonNode readiness = http().get("/actuator/health/readiness").json();
        assertThat(readiness.path("status").asString()).isEqualTo("UP");
        assertThat(readiness.path("components").path("model").path("details").path("executionProvider").asString())
                .isEqualTo("CPU");
        http().post("/v1/completions", "{\"prompt\": [1, 2, 3], \"max_tokens\": 3, \"ignore_eos\": true}");
        String prometheus = http().get("/actuator/prometheus").body();
        assertThat(prometheus).contains("kvshare_time_to_first_token_seconds_bucket", "kvshare_generation_tokens_total",
                "kvshare_prompt_tokens_total{", "source=\"computed\"", "kvshare_inter_token_latency_seconds",
                "kvshare_requests_running");
    }

    private String streamedText(String request) {
        Http.Response response = http().post("/v1/chat/completions", request);
        assertThat(response.status()).isEqualTo(200);
        StringBuilder text = new StringBuilder();
        for (JsonNode event : response.events()) {
            text.append(event.path("choices").path(0).path("delta").path("content").asString(""));
        }
        return text.toString();
    }

    private static String content(JsonNode chat) {
        return chat.path("choices").path(0).path("message").path("content").asString();
    }
}
