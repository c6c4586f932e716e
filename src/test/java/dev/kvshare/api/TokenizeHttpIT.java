package dev.kvshare.api;

import static dev.kvshare.api.CompletionsHttpIT.ids;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import dev.kvshare.testsupport.Http;
import dev.kvshare.testsupport.ServiceOnLlama;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.TestPropertySource;
import tools.jackson.databind.JsonNode;

/** {@code /tokenize} and {@code /detokenize} over real HTTP, in vLLM's and llama.cpp's shapes, on the Llama export. */
@ServiceOnLlama
@TestPropertySource(properties = {"kvshare.limits.max-message-chars=64", "kvshare.limits.max-request-chars=100"})
class TokenizeHttpIT {

    @LocalServerPort
    int port;

    Http http() {
        return new Http(port);
    }

    @Test
    void aPromptRoundTripsThroughDetokenize() {
        JsonNode tokens = http().post("/tokenize", """
                {"prompt": "Where is my refund? It has been 9 days.", "add_special_tokens": false}""").json();
        List<Integer> ids = ids(tokens.path("tokens"));
        assertThat(tokens.path("count").asInt()).isEqualTo(ids.size()).isGreaterThan(5);
        assertThat(tokens.path("max_model_len").asInt()).isPositive();
        assertThat(tokens.has("token_strs")).isFalse();

        JsonNode text = http().post("/detokenize", "{\"tokens\": " + ids + "}").json();
        assertThat(text.path("prompt").asString()).isEqualTo("Where is my refund? It has been 9 days.");
        assertThat(text.path("content").asString()).isEqualTo(text.path("prompt").asString());
    }

    @Test
    void specialTokensAreAddedByDefaultAsInVllmAndLlamaCpp() {
        List<Integer> plain = ids(http().post("/tokenize", """
                {"content": "Hello", "add_special": false}""").json().path("tokens"));
        List<Integer> withBos = ids(http().post("/tokenize", "{\"content\": \"Hello\"}").json().path("tokens"));
        assertThat(withBos).hasSize(plain.size() + 1).endsWith(plain.toArray(Integer[]::new));
    }

    @Test
    void messagesAreRenderedWithTheChatTemplateExactlyAsTheChatEndpointDoes() {
        String messages = """
                [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]""";
        JsonNode tokens = http().post("/tokenize", "{\"messages\": " + messages + ", \"return_token_strs\": true}")
                .json();
        JsonNode chat = http().post("/v1/chat/completions", "{\"messages\": " + messages
                + ", \"max_tokens\": 1, \"return_token_ids\": true}").json();
        assertThat(ids(tokens.path("tokens"))).containsExactlyElementsOf(ids(chat.path("prompt_token_ids")));
        assertThat(tokens.path("token_strs")).hasSize(tokens.path("count").asInt());
        String joined = String.join("", tokens.path("token_strs").valueStream().map(JsonNode::asString).toList());
        assertThat(joined).contains("Be", "brief", "Hi");
    }

    @Test
    void toolsAreRenderedIntoTheChatPromptAsTheChatEndpointRendersThem() {
        String messages = "[{\"role\": \"user\", \"content\": \"Hi\"}]";
        String tools = """
                [{"type": "function", "function": {"name": "lookup_order", "parameters": {"type": "object"}}}]""";
        List<Integer> withTools = ids(http().post("/tokenize", "{\"messages\": " + messages + ", \"tools\": " + tools
                + "}").json().path("tokens"));
        JsonNode chat = http().post("/v1/chat/completions", "{\"messages\": " + messages + ", \"tools\": " + tools
                + ", \"max_tokens\": 1, \"return_token_ids\": true}").json();

        assertThat(withTools).containsExactlyElementsOf(ids(chat.path("prompt_token_ids")))
                .hasSizeGreaterThan(ids(http().post("/tokenize", "{\"messages\": " + messages + "}").json()
                        .path("tokens")).size());
        assertError(http().post("/tokenize", "{\"prompt\": \"Hi\", \"tools\": " + tools + "}"), 400, "tools");
        assertError(http().post("/tokenize", "{\"messages\": " + messages + ", \"tools\": [{\"type\": \"x\"}]}"),
                400, "tools[0]");
    }

    @Test
    void requestsAreBoundedAndRefusedInTheOpenAiShape() {
        assertError(http().post("/tokenize", "{\"prompt\": \"" + "x".repeat(101) + "\"}"), 400, "prompt");
        assertError(http().post("/tokenize", """
                {"messages": [{"role": "user", "content": "%s"}]}""".formatted("y".repeat(65))), 400,
                "messages[0].content");
        assertError(http().post("/tokenize", "{\"prompt\": \"a\", \"content\": \"b\"}"), 400, "prompt");
        assertError(http().post("/tokenize", "{\"prompt\": 5}"), 400, "prompt");
        assertError(http().post("/tokenize", "{\"prompt\": \"a\", \"model\": \"gpt-4\"}"), 400, "model");
        assertError(http().post("/detokenize", "{\"tokens\": [1, -3]}"), 400, "tokens");
        assertError(http().post("/detokenize", "{\"tokens\": [1, 2.5]}"), 400, "tokens[1]");
        int context = http().post("/tokenize", "{\"prompt\": \"a\"}").json().path("max_model_len").asInt();
        String tooMany = "[" + "1,".repeat(context) + "1]";
        assertError(http().post("/detokenize", "{\"tokens\": " + tooMany + "}"), 400, "tokens");
    }

    private static void assertError(Http.Response response, int status, String param) {
        assertThat(response.status()).as(response.body()).isEqualTo(status);
        JsonNode error = response.json().path("error");
        assertThat(error.path("type").asString()).isEqualTo("invalid_request_error");
        assertThat(error.path("param").asString()).isEqualTo(param);
        assertThat(error.path("message").asString()).isNotBlank();
    }
}
