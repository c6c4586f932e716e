package dev.kvshare.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.StreamSupport;

import dev.kvshare.testsupport.Http;
import dev.kvshare.testsupport.ServiceOnGpt2;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;

/** The OpenAI endpoints over real HTTP, on the GPT-2 reference export (stacked KV, int32 ids). */
@ServiceOnGpt2
class CompletionsHttpIT {

    @LocalServerPort
    int port;

    Http http() {
        return new Http(port);
    }

    @Test
    void greedyCompletionOfTokenIdsReproducesTheKnownGoodIds() {
        Http.Response response = http().post("/v1/completions", """
                {"model": "tiny-random-gpt2-fp32", "prompt": [0, 0, 195, 731], "max_tokens": 6,
                 "temperature": 0, "return_token_ids": true, "ignore_eos": true,
                 "cache_salt": "known-good-ids, cold"}""");
        assertThat(response.status()).isEqualTo(200);
        JsonNode body = response.json();
        assertThat(ids(body.path("choices").path(0).path("token_ids"))).containsExactly(731, 114, 114, 114, 114, 114);
        assertThat(ids(body.path("prompt_token_ids"))).containsExactly(0, 0, 195, 731);
        assertThat(body.path("object").asString()).isEqualTo("text_completion");
        assertThat(body.path("choices").path(0).path("finish_reason").asString()).isEqualTo("length");
        JsonNode usage = body.path("usage");
        assertThat(usage.path("prompt_tokens").asInt()).isEqualTo(4);
        assertThat(usage.path("completion_tokens").asInt()).isEqualTo(6);
        assertThat(usage.path("total_tokens").asInt()).isEqualTo(10);
        // Its own salt: the context is shared with other classes that may have sent these ids already.
        assertThat(usage.path("prompt_tokens_details").path("cached_tokens").asInt()).isZero();
    }

    @Test
    void streamedCompletionCarriesTheSameTokensAndTextAsTheWholeOne() {
        String request = """
                {"prompt": [0, 0, 0, 52], "max_tokens": 12, "temperature": 0, "return_token_ids": true,
                 "ignore_eos": true, "stream": %s, "stream_options": {"include_usage": true}}""";
        JsonNode whole = http().post("/v1/completions", request.formatted("false")).json();
        Http.Response streamed = http().post("/v1/completions", request.formatted("true"));

        assertThat(streamed.status()).isEqualTo(200);
        assertThat(streamed.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/event-stream");
        assertThat(streamed.body()).endsWith("data: [DONE]\n\n");
        List<JsonNode> events = streamed.events();
        StringBuilder text = new StringBuilder();
        List<Integer> tokens = new ArrayList<>();
        for (JsonNode event : events) {
            for (JsonNode choice : event.path("choices")) {
                text.append(choice.path("text").asString(""));
                tokens.addAll(ids(choice.path("token_ids")));
            }
        }
        assertThat(text.toString()).isEqualTo(whole.path("choices").path(0).path("text").asString());
        assertThat(tokens).containsExactlyElementsOf(ids(whole.path("choices").path(0).path("token_ids")));
        assertThat(ids(events.get(0).path("prompt_token_ids"))).containsExactly(0, 0, 0, 52);
        JsonNode last = events.get(events.size() - 1);
        assertThat(last.path("choices")).isEmpty();
        assertThat(last.path("usage").path("completion_tokens").asInt()).isEqualTo(12);
        assertThat(events.get(events.size() - 2).path("choices").path(0).path("finish_reason").asString())
                .isEqualTo("length");
        assertThat(events).allSatisfy(e -> assertThat(e.path("id").asString())
                .isEqualTo(events.get(0).path("id").asString()));
    }

    @Test
    void promptWhoseTokensTheModelLacksIsRefusedWith400() {
        // This fixture pairs a 50k-token tokenizer with a 1,000-token model: the text maps outside it.
        Http.Response response = http().post("/v1/completions", """
                {"prompt": "Hello there, how are you?", "max_tokens": 5}""");
        assertThat(response.status()).isEqualTo(400);
        assertThat(response.json().path("error").path("param").asString()).isEqualTo("prompt");
        assertThat(response.json().path("error").path("message").asString()).contains("outside the model's vocabulary");
    }

    @Test
    void modelsListsTheServedModel() {
        JsonNode models = http().get("/v1/models").json();
        assertThat(models.path("object").asString()).isEqualTo("list");
        assertThat(models.path("data").path(0).path("id").asString()).isEqualTo("tiny-random-gpt2-fp32");
        assertThat(models.path("data").path(0).path("max_model_len").asInt()).isEqualTo(512);
    }

    static List<Integer> ids(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false).map(JsonNode::asInt).toList();
    }
}
