package dev.kvshare.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** What each family writes into a prompt for a template that renders no tools, and how it is named. */
class ToolCallFormatTest {

    private static final List<Map<String, Object>> TOOLS = List.of(Map.of("type", "function", "function",
            Map.of("name", "lookupOrder")));
    private static final List<ChatTurn> CALLED = List.of(new ChatTurn("user", "Where is A-1?"),
            new ChatTurn("assistant", null, List.of(Map.of("function", Map.of("name", "lookupOrder", "arguments",
                    Map.of("orderId", "A-1")))), null));

    @Test
    void hermesWritesTaggedCallsAndTeachesTheTags() {
        List<ChatTurn> inlined = ToolPrompt.inline(CALLED, TOOLS, ToolCallFormat.HERMES);
        assertThat(inlined.get(0).content()).endsWith("</tools>\n\nFor each function call, return a json object "
                + "with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n"
                + "{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call>");
        assertThat(inlined.get(2).content())
                .isEqualTo("<tool_call>\n{\"name\": \"lookupOrder\", \"arguments\": {\"orderId\":\"A-1\"}}\n</tool_call>");
    }

    @Test
    void llamaWritesBareObjectsWithParameters() {
        List<ChatTurn> inlined = ToolPrompt.inline(CALLED, TOOLS, ToolCallFormat.LLAMA3_JSON);
        assertThat(inlined.get(0).content()).endsWith("</tools>\n\nTo call a function, respond with only a JSON "
                + "object of the form {\"name\": <function-name>, \"parameters\": <args-json-object>}.");
        assertThat(inlined.get(2).content())
                .isEqualTo("{\"name\": \"lookupOrder\", \"parameters\": {\"orderId\":\"A-1\"}}");
    }

    @Test
    void aFormatIsNamedInTheConfigurationInAnyCase() {
        assertThat(ToolCallFormat.named("Hermes")).isEqualTo(ToolCallFormat.HERMES);
        assertThat(ToolCallFormat.named("llama3-json")).isEqualTo(ToolCallFormat.LLAMA3_JSON);
        assertThatThrownBy(() -> ToolCallFormat.named("xml")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("kvshare.tools.format must be auto, hermes or llama3-json, not xml");
    }
}
