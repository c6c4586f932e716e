package dev.kvshare.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import dev.kvshare.constrain.SchemaGuarantee;
import dev.kvshare.testsupport.Http;
import dev.kvshare.testsupport.ServiceOnBundledModel;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;

/** Tools over HTTP on the bundled model (ChatML: tools are written into the system message). */
@ServiceOnBundledModel
class ToolCallingHttpIT {

    static final String LOOKUP_ORDER = """
            {"type": "function", "function": {"name": "lookupOrder", "description": "Finds an order by its id",
             "parameters": {"type": "object", "properties": {"orderId": {"type": "string"}},
              "required": ["orderId"], "additionalProperties": false}}}""";
    static final String OPEN_RETURN = """
            {"type": "function", "function": {"name": "openReturn", "description": "Opens a return",
             "parameters": {"type": "object", "properties": {"orderId": {"type": "string"},
              "reason": {"enum": ["damaged", "wrong_item", "changed_mind"]}, "items": {"type": "array",
              "items": {"type": "integer"}, "maxItems": 3}},
              "required": ["orderId", "reason", "items"], "additionalProperties": false}}}""";

    @LocalServerPort
    int port;

    private Http.Response ask(String toolChoice, long seed, boolean stream) {
        return new Http(port).post("/v1/chat/completions", """
                {"messages": [{"role": "user", "content": "Where is order A-1042? It arrived damaged."}],
                 "tools": [%s, %s], "tool_choice": %s, "max_tokens": 200, "temperature": 1.0, "seed": %d,
                 "stream": %b}""".formatted(LOOKUP_ORDER, OPEN_RETURN, toolChoice, seed, stream));
    }

    @Test
    void aForcedCallNamesADeclaredToolAndItsArgumentsValidate() {
        JsonNode parameters = Http.JSON.readTree(OPEN_RETURN).path("function").path("parameters");
        JsonNode lookupParameters = Http.JSON.readTree(LOOKUP_ORDER).path("function").path("parameters");
        for (long seed = 0; seed < 8; seed++) {
            JsonNode choice = ask("\"required\"", seed, false).json().path("choices").path(0);
            // length: max_tokens made the call close early, still whole
            assertThat(choice.path("finish_reason").asString()).isIn("tool_calls", "length");
            JsonNode call = choice.path("message").path("tool_calls").path(0);
            assertThat(call.path("id").asString()).startsWith("call_");
            assertThat(call.path("type").asString()).isEqualTo("function");
            String name = call.path("function").path("name").asString();
            assertThat(name).isIn("lookupOrder", "openReturn");
            assertThat(SchemaGuarantee.problems(name.equals("openReturn") ? parameters : lookupParameters,
                    call.path("function").path("arguments").asString())).isEmpty();
            assertThat(choice.path("message").has("content")).isTrue();
            assertThat(choice.path("message").path("content").isNull()).isTrue();
        }
    }

    @Test
    void aNamedToolChoiceCallsThatTool() {
        for (long seed = 0; seed < 4; seed++) {
            JsonNode choice = ask("{\"type\": \"function\", \"function\": {\"name\": \"openReturn\"}}", seed, false)
                    .json().path("choices").path(0);
            assertThat(choice.path("message").path("tool_calls").path(0).path("function").path("name")
                    .asString()).isEqualTo("openReturn");
        }
    }

    @Test
    void aStreamedCallArrivesAsAToolCallsDeltaLikeTheWholeReply() {
        String named = "{\"type\": \"function\", \"function\": {\"name\": \"lookupOrder\"}}";
        long seed = 0;
        JsonNode whole = ask(named, seed, false).json().path("choices").path(0);
        while (!whole.path("finish_reason").asString().equals("tool_calls")) { // a seed whose call ends in time
            whole = ask(named, ++seed, false).json().path("choices").path(0);
        }
        List<JsonNode> events = ask(named, seed, true).events();
        JsonNode call = events.stream().map(e -> e.path("choices").path(0).path("delta").path("tool_calls"))
                .filter(JsonNode::isArray).findFirst().orElseThrow().path(0);
        assertThat(call.path("index").asInt()).isZero();
        assertThat(call.path("function").path("name").asString()).isEqualTo("lookupOrder");
        assertThat(call.path("function").path("arguments").asString()).isEqualTo(
                whole.path("message").path("tool_calls").path(0).path("function").path("arguments").asString());
        assertThat(events.get(events.size() - 1).path("choices").path(0).path("finish_reason").asString())
                .isEqualTo("tool_calls");
    }

    @Test
    void aForcedCallCutByAStopStringIsText() {
        Http.Response response = new Http(port).post("/v1/chat/completions", """
                {"messages": [{"role": "user", "content": "Where is A-1?"}], "tools": [%s],
                 "tool_choice": "required", "stop": ["orderId"], "max_tokens": 50}""".formatted(LOOKUP_ORDER));
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        JsonNode choice = response.json().path("choices").path(0);
        assertThat(choice.path("finish_reason").asString()).isEqualTo("stop");
        assertThat(choice.path("message").path("content").asString())
                .isEqualTo("{\"name\":\"lookupOrder\",\"arguments\":{\"");
    }

    @Test
    void aToolResultIsSentBackAndAnswered() {
        Http.Response response = new Http(port).post("/v1/chat/completions", """
                {"messages": [{"role": "user", "content": "Where is order A-1042?"},
                  {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
                   "function": {"name": "lookupOrder", "arguments": "{\\"orderId\\": \\"A-1042\\"}"}}]},
                  {"role": "tool", "tool_call_id": "call_1", "content": "{\\"status\\": \\"shipped\\"}"}],
                 "tools": [%s], "max_tokens": 30, "temperature": 0}""".formatted(LOOKUP_ORDER));
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        assertThat(response.json().path("choices").path(0).path("finish_reason").asString()).isIn("stop", "length");
    }

    @Test
    void badToolRequestsAreRefusedWithTheirParam() {
        Http http = new Http(port);
        for (List<String> bad : List.of(
                List.of("\"tools\": [" + LOOKUP_ORDER + "], \"tool_choice\": \"always\"", "tool_choice"),
                List.of("\"tools\": [" + LOOKUP_ORDER + "], \"tool_choice\": {\"type\": \"function\", \"function\": "
                        + "{\"name\": \"nope\"}}", "tool_choice"),
                List.of("\"tool_choice\": \"required\"", "tool_choice"),
                List.of("\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"has space\"}}]",
                        "tools[0].function.name"),
                List.of("\"tools\": [" + LOOKUP_ORDER + ", " + LOOKUP_ORDER + "]", "tools[1].function.name"),
                List.of("\"tools\": [{\"type\": \"retrieval\"}]", "tools[0]"),
                List.of("\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\", \"parameters\": "
                        + "{\"type\": \"object\", \"properties\": {\"a\": {\"oneOf\": []}}}}}], \"tool_choice\": "
                        + "\"required\"", "tools"))) {
            Http.Response response = http.post("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", "
                    + "\"content\": \"hi\"}], \"max_tokens\": 5, " + bad.get(0) + "}");
            assertThat(response.status()).as(bad.get(0)).isEqualTo(400);
            assertThat(response.json().path("error").path("param").asString()).as(bad.get(0)).isEqualTo(bad.get(1));
        }
    }

    @Test
    void toolCallArgumentsThatAreNotJsonAreRefused() {
        Http.Response response = new Http(port).post("/v1/chat/completions", """
                {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "tool_calls": [{"id": "c",
                  "type": "function", "function": {"name": "lookupOrder", "arguments": "not json"}}]}],
                 "max_tokens": 5}""");
        assertThat(response.status()).isEqualTo(400);
        assertThat(response.json().path("error").path("param").asString()).isEqualTo("messages[1].tool_calls");
    }
}
