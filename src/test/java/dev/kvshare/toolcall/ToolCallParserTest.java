package dev.kvshare.toolcall;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;

import dev.kvshare.model.ToolCallFormat;
import org.junit.jupiter.api.Test;

class ToolCallParserTest {

    private static final ToolCallParser HERMES = new ToolCallParser(ToolCallFormat.HERMES,
            Set.of("lookupOrder", "openReturn"));
    private static final ToolCallParser LLAMA = new ToolCallParser(ToolCallFormat.LLAMA3_JSON, Set.of("lookupOrder"));

    @Test
    void hermesBlocksBecomeCallsAndTheRestStaysContent() {
        ParsedReply reply = HERMES.parse("Let me check.\n<tool_call>\n{\"name\": \"lookupOrder\", \"arguments\": "
                + "{\"orderId\": \"A-1\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"openReturn\", \"arguments\": {}}");
        assertThat(reply.content()).isEqualTo("Let me check.");
        assertThat(reply.calls()).containsExactly(new ParsedReply.Call("lookupOrder", "{\"orderId\":\"A-1\"}"),
                new ParsedReply.Call("openReturn", "{}"));
    }

    @Test
    void whatOnlyLooksLikeACallStaysText() {
        for (String text : List.of("<tool_call>{\"name\": \"deleteAll\", \"arguments\": {}}</tool_call>",
                "<tool_call>{\"name\": \"lookupOrder\", \"arguments\": \"A-1\"}</tool_call>",
                "<tool_call>not json</tool_call>", "plain answer")) {
            ParsedReply reply = HERMES.parse(text);
            assertThat(reply.calls()).as(text).isEmpty();
            assertThat(reply.content()).isEqualTo(text);
        }
    }

    @Test
    void llamaJsonUsesParameters() {
        assertThat(LLAMA.parse(" {\"name\": \"lookupOrder\", \"parameters\": {\"orderId\": \"A-1\"}}").calls())
                .containsExactly(new ParsedReply.Call("lookupOrder", "{\"orderId\":\"A-1\"}"));
        assertThat(LLAMA.parse("The order {\"name\": \"lookupOrder\"} is late").calls()).isEmpty();
    }

    @Test
    void aForcedReplyIsExactlyOneCall() {
        assertThat(HERMES.parseForced("{\"name\":\"openReturn\",\"arguments\":{\"orderId\":\"x\"}}").calls())
                .hasSize(1);
        assertThat(HERMES.parseForced("{\"name\":\"openReturn\"").calls()).as("cut by a stop string").isEmpty();
    }
}
