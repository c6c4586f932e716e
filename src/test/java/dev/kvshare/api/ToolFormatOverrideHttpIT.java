package dev.kvshare.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvshare.constrain.SchemaGuarantee;
import dev.kvshare.testsupport.Http;
import dev.kvshare.testsupport.ServiceOnLlama;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.TestPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * A SentencePiece model (the reference Llama export, random weights) with the tool format set by
 * {@code kvshare.tools.format=llama3-json}: forced calls are generated with Llama's {@code parameters} key and
 * still come back as OpenAI tool calls whose arguments validate.
 */
@ServiceOnLlama
@TestPropertySource(properties = {"kvshare.constrain.max-string-chars=48", "kvshare.tools.format=llama3-json"})
class ToolFormatOverrideHttpIT {

    @LocalServerPort
    int port;

    @Test
    void forcedCallsUseTheConfiguredFormatAndValidate() {
        JsonNode parameters = Http.JSON.readTree(ToolCallingHttpIT.OPEN_RETURN).path("function").path("parameters");
        for (long seed = 0; seed < 6; seed++) {
            JsonNode choice = new Http(port).post("/v1/chat/completions", """
                    {"messages": [{"role": "user", "content": "My parcel arrived damaged."}], "tools": [%s],
                     "tool_choice": "required", "max_tokens": 150, "temperature": 1.0, "seed": %d}"""
                    .formatted(ToolCallingHttpIT.OPEN_RETURN, seed))
                    .json().path("choices").path(0);
            // length: max_tokens made the call close early, still whole
            assertThat(choice.path("finish_reason").asString()).isIn("tool_calls", "length");
            JsonNode function = choice.path("message").path("tool_calls").path(0).path("function");
            assertThat(function.path("name").asString()).isEqualTo("openReturn");
            assertThat(SchemaGuarantee.problems(parameters, function.path("arguments").asString())).isEmpty();
        }
    }
}
