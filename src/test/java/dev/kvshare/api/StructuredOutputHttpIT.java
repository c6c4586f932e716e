package dev.kvshare.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import dev.kvshare.constrain.SchemaGuarantee;
import dev.kvshare.testsupport.Http;
import dev.kvshare.testsupport.ServiceOnBundledModel;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;

/**
 * response_format over HTTP on the bundled model, sampled with many seeds: every reply validates against its
 * schema, whether the model closed it ({@code stop}) or max_tokens made it close early ({@code length}).
 */
@ServiceOnBundledModel
class StructuredOutputHttpIT {

    private static final int SEEDS = 6;
    private static final int MAX_TOKENS = 160;

    @LocalServerPort
    int port;

    private Http.Response ask(String responseFormat, long seed, boolean stream) {
        return new Http(port).post("/v1/chat/completions", """
                {"messages": [{"role": "user", "content": "Describe my order as JSON."}], "max_tokens": %d,
                 "temperature": 1.0, "seed": %d, "stream": %b, "response_format": %s}"""
                .formatted(MAX_TOKENS, seed, stream, responseFormat));
    }

    private static String schemaFormat(JsonNode schema) {
        return "{\"type\": \"json_schema\", \"json_schema\": {\"name\": \"reply\", \"strict\": true, \"schema\": "
                + schema + "}}";
    }

    @Test
    void everyReplyValidatesAgainstItsSchema() {
        for (String name : SchemaGuarantee.SCHEMAS) {
            JsonNode schema = SchemaGuarantee.schema(name);
            for (long seed = 0; seed < SEEDS; seed++) {
                Http.Response response = ask(schemaFormat(schema), seed, false);
                assertThat(response.status()).as(response.body()).isEqualTo(200);
                JsonNode choice = response.json().path("choices").path(0);
                String content = choice.path("message").path("content").asString();
                assertThat(SchemaGuarantee.problems(schema, content)).as("%s seed %d: %s", name, seed, content)
                        .isEmpty();
                assertThat(choice.path("finish_reason").asString()).isIn("stop", "length");
                assertThat(response.json().path("usage").path("completion_tokens").asInt())
                        .isLessThanOrEqualTo(MAX_TOKENS);
            }
        }
    }

    @Test
    void aStreamedReplyIsTheWholeReplyInPieces() {
        JsonNode schema = SchemaGuarantee.schema("enums");
        String whole = ask(schemaFormat(schema), 3, false).json().path("choices").path(0).path("message")
                .path("content").asString();
        StringBuilder streamed = new StringBuilder();
        for (JsonNode event : ask(schemaFormat(schema), 3, true).events()) {
            streamed.append(event.path("choices").path(0).path("delta").path("content").asString(""));
        }
        assertThat(streamed.toString()).isEqualTo(whole);
        assertThat(SchemaGuarantee.problems(schema, whole)).isEmpty();
    }

    @Test
    void jsonObjectGivesAnObject() {
        for (long seed = 0; seed < SEEDS; seed++) {
            JsonNode choice = ask("{\"type\": \"json_object\"}", seed, false).json().path("choices").path(0);
            assertThat(Http.JSON.readTree(choice.path("message").path("content").asString()).isObject()).isTrue();
        }
    }

    @Test
    void unsupportedSchemasAreRefusedByName() {
        Http.Response response = ask(schemaFormat(Http.JSON.readTree("""
                {"type": "object", "properties": {"email": {"type": "string", "format": "email"},
                 "code": {"type": "string", "pattern": "^[A-Z]+$"}}, "required": ["email", "code"]}""")), 0, false);
        assertThat(response.status()).isEqualTo(400);
        JsonNode error = response.json().path("error");
        assertThat(error.path("param").asString()).isEqualTo("response_format.json_schema.schema");
        assertThat(error.path("message").asString()).contains("format at #/properties/email",
                "pattern at #/properties/code");
    }

    @Test
    void malformedResponseFormatsAreRefused() {
        for (List<String> bad : List.of(
                List.of("{\"type\": \"yaml\"}", "response_format.type"),
                List.of("{\"type\": \"json_schema\"}", "response_format.json_schema"),
                List.of("{\"type\": \"json_schema\", \"json_schema\": {\"name\": \"a b\", \"schema\": {}}}",
                        "response_format.json_schema.name"),
                List.of("{\"type\": \"json_schema\", \"json_schema\": {\"name\": \"x\", \"schema\": 3}}",
                        "response_format.json_schema.schema"),
                List.of("\"json\"", "response_format"))) {
            Http.Response response = ask(bad.get(0), 0, false);
            assertThat(response.status()).as(bad.get(0)).isEqualTo(400);
            assertThat(response.json().path("error").path("param").asString()).as(bad.get(0)).isEqualTo(bad.get(1));
        }
    }
}
