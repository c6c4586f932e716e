package dev.kvshare.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The bundled model's chat template renders the shared cases ({@code src/test/resources/chat-template/cases.json})
 * exactly as their expected strings say. The model tooling's tests hold {@code bpe_tokenizer.render_chat}, which
 * wrote the model's training corpus, and jinja2 to the same strings (tools/model/tests/test_chat_template.py), so
 * the service prompts the model as it was trained.
 */
class ChatTemplateCasesTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final TypeReference<List<Map<String, Object>>> LIST_OF_MAPS = new TypeReference<>() {
    };
    private static final ChatTemplate BUNDLED = ChatTemplate.of(
            TokenizerConfig.read(Path.of("src/main/resources/kvshare/bundled-model/tokenizer_config.json")));

    static List<Arguments> cases() throws IOException {
        try (InputStream in = ChatTemplateCasesTest.class.getResourceAsStream("/chat-template/cases.json")) {
            assertThat(in).as("chat-template/cases.json on the test classpath").isNotNull();
            List<Arguments> cases = new ArrayList<>();
            JSON.readTree(in).path("cases").forEach(c -> cases.add(Arguments.of(c.path("name").asString(), c)));
            return cases;
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void theBundledTemplateRendersEachCaseAsExpected(String name, JsonNode testCase) {
        List<ChatTurn> turns = new ArrayList<>();
        for (JsonNode message : testCase.path("messages")) {
            JsonNode content = message.path("content");
            turns.add(new ChatTurn(message.path("role").asString(), content.isNull() ? null : content.asString(),
                    message.has("tool_calls") ? JSON.convertValue(message.path("tool_calls"), LIST_OF_MAPS) : null,
                    message.has("tool_call_id") ? message.path("tool_call_id").asString() : null));
        }
        List<Map<String, Object>> tools = testCase.has("tools")
                ? JSON.convertValue(testCase.path("tools"), LIST_OF_MAPS) : null;

        assertThat(BUNDLED.render(turns, testCase.path("add_generation_prompt").asBoolean(), tools))
                .as(name)
                .isEqualTo(testCase.path("expected").asString());
    }
}
