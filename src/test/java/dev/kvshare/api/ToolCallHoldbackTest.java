package dev.kvshare.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import dev.kvshare.model.ToolCallFormat;
import dev.kvshare.toolcall.ParsedReply;
import dev.kvshare.toolcall.ToolCallParser;
import org.junit.jupiter.api.Test;

class ToolCallHoldbackTest {

    private static final String CALL = "<tool_call>\n{\"name\": \"lookupOrder\", \"arguments\": {\"orderId\": "
            + "\"A-1\"}}\n</tool_call>";

    /** What streams for each chunk. */
    private static List<String> stream(ToolCallHoldback holdback, String... chunks) {
        List<String> streamed = new ArrayList<>();
        for (String chunk : chunks) {
            streamed.add(holdback.offer(chunk));
        }
        return streamed;
    }

    @Test
    void plainTextStreamsAsItComes() {
        assertThat(stream(new ToolCallHoldback(ToolCallFormat.HERMES), "Your order", " ships", " today."))
                .containsExactly("Your order", " ships", " today.");
    }

    @Test
    void aMarkerSplitAcrossChunksIsNeverSentInPart() {
        ToolCallHoldback holdback = new ToolCallHoldback(ToolCallFormat.HERMES);
        assertThat(stream(holdback, "Let me check.", " <tool", "_ca", "ll>\n{\"name\"", ": \"x\"}", " more"))
                .containsExactly("Let me check.", "", "", "", "", "");
    }

    @Test
    void aTailThatStopsLookingLikeTheMarkerIsSent() {
        assertThat(stream(new ToolCallHoldback(ToolCallFormat.HERMES), "a <to", "y> b"))
                .containsExactly("a", " <toy> b");
    }

    @Test
    void aLookAlikeIsSentAtTheEndAsText() {
        String lookAlike = "See <tool_call>not json</tool_call> here.";
        ToolCallHoldback holdback = new ToolCallHoldback(ToolCallFormat.HERMES);
        String streamed = String.join("", stream(holdback, lookAlike.split("(?<=\\G.{3})")));
        assertThat(streamed).isEqualTo("See");
        assertThat(streamed + holdback.rest(content(ToolCallFormat.HERMES, lookAlike))).isEqualTo(lookAlike);
    }

    @Test
    void textThenACallStreamsTheTextAndHoldsTheCall() {
        ToolCallHoldback holdback = new ToolCallHoldback(ToolCallFormat.HERMES);
        assertThat(stream(holdback, "Let me", " check.\n", CALL)).containsExactly("Let me", " check.", "");
        assertThat(holdback.rest(content(ToolCallFormat.HERMES, "Let me check.\n" + CALL))).isNull();
    }

    @Test
    void llamaJsonHoldsAReplyStartingWithABraceAndStreamsAnyOther() {
        assertThat(stream(new ToolCallHoldback(ToolCallFormat.LLAMA3_JSON), " ", "{\"name\"", ": 1}"))
                .containsExactly("", "", "");
        assertThat(stream(new ToolCallHoldback(ToolCallFormat.LLAMA3_JSON), "\n", "Hi {", "x}"))
                .containsExactly("", "\nHi {", "x}");
    }

    /** Whatever the split, streamed text plus the rest is the content the whole reply parses to. */
    @Test
    void streamedPlusRestIsTheParsedContentForEverySplit() {
        List<String> replies = List.of("plain answer", "  leading space", "ends with space \n", CALL,
                "Checking.\n" + CALL + "\nDone.", "a <tool_c", "x <tool_call>not json</tool_call> y " + CALL,
                "{\"name\": \"lookupOrder\", \"parameters\": {}}", " {\"name\": \"nope\"}", "", "\n\n",
                "Text <tool_call>{\"name\": \"lookupOrder\", \"arguments\": {}}");
        for (ToolCallFormat format : ToolCallFormat.values()) {
            for (String reply : replies) {
                for (int size = 1; size <= reply.length() + 1; size++) {
                    ToolCallHoldback holdback = new ToolCallHoldback(format);
                    StringBuilder streamed = new StringBuilder();
                    for (int at = 0; at < reply.length(); at += size) {
                        streamed.append(holdback.offer(reply.substring(at, Math.min(reply.length(), at + size))));
                    }
                    String content = content(format, reply);
                    String rest = holdback.rest(content);
                    // A reply that is only calls has no content (null): then nothing may have streamed.
                    assertThat(streamed + (rest == null ? "" : rest)).as("%s %s by %d", format, reply, size)
                            .isEqualTo(content == null ? "" : content);
                }
            }
        }
    }

    /** The content AssistantReply gives a free reply that ended by itself. */
    private static String content(ToolCallFormat format, String reply) {
        ParsedReply parsed = new ToolCallParser(format, Set.of("lookupOrder")).parse(reply);
        return parsed.calls().isEmpty() ? reply : parsed.content();
    }
}
