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
    void aBlockThatIsNoCallOfADeclaredToolIsDroppedFromTheText() {
        for (List<String> dropped : List.of(
                List.of("<tool_call>{\"name\": \"deleteAll\", \"arguments\": {}}</tool_call>", "undeclared"),
                List.of("<tool_call>{\"name\": \"lookupOrder\", \"arguments\": \"A-1\"}</tool_call>", "malformed"),
                List.of("<tool_call>not json</tool_call>", "malformed"),
                List.of("<tool_call>\n{\"name\": \"lookupOrd", "malformed"))) {
            ParsedReply reply = HERMES.parse("I will check that for you.\n" + dropped.get(0) + "\nOne moment.");
            assertThat(reply.calls()).as(dropped.get(0)).isEmpty();
            assertThat(reply.content()).as(dropped.get(0)).doesNotContain("tool_call", "{")
                    .startsWith("I will check that for you.");
            assertThat(reply.rejected()).as(dropped.get(0)).containsExactly(dropped.get(1));
        }
        assertThat(HERMES.parse("<tool_call>{\"name\": \"lookup_order\", \"arguments\": {}}</tool_call>").content())
                .as("a reply that was only a dropped call").isNull();
    }

    @Test
    void aDeclaredCallBesideAnUndeclaredOneIsKept() {
        ParsedReply reply = HERMES.parse("<tool_call>{\"name\": \"lookup_order\", \"arguments\": {}}</tool_call>"
                + "<tool_call>{\"name\": \"lookupOrder\", \"arguments\": {\"orderId\": \"A-1\"}}</tool_call>");
        assertThat(reply.calls()).containsExactly(new ParsedReply.Call("lookupOrder", "{\"orderId\":\"A-1\"}"));
        assertThat(reply.rejected()).containsExactly("undeclared");
    }

    @Test
    void textWithoutBlocksStaysTextWhateverItLooksLike() {
        for (String text : List.of("plain answer", "Use {\"name\": \"deleteAll\", \"arguments\": {}} here")) {
            ParsedReply reply = HERMES.parse(text);
            assertThat(reply.calls()).isEmpty();
            assertThat(reply.rejected()).isEmpty();
            assertThat(reply.content()).isEqualTo(text);
        }
    }

    @Test
    void llamaJsonUsesParameters() {
        assertThat(LLAMA.parse(" {\"name\": \"lookupOrder\", \"parameters\": {\"orderId\": \"A-1\"}}").calls())
                .containsExactly(new ParsedReply.Call("lookupOrder", "{\"orderId\":\"A-1\"}"));
        assertThat(LLAMA.parse("The order {\"name\": \"lookupOrder\"} is late").calls()).isEmpty();
        ParsedReply undeclared = LLAMA.parse("{\"name\": \"lookup_order\", \"parameters\": {\"orderId\": \"A-1\"}}");
        assertThat(undeclared.content()).isNull();
        assertThat(undeclared.rejected()).containsExactly("undeclared");
    }

    @Test
    void aForcedReplyIsExactlyOneCall() {
        assertThat(HERMES.parseForced("{\"name\":\"openReturn\",\"arguments\":{\"orderId\":\"x\"}}").calls())
                .hasSize(1);
        assertThat(HERMES.parseForced("{\"name\":\"openReturn\"").calls()).as("cut by a stop string").isEmpty();
    }
}
