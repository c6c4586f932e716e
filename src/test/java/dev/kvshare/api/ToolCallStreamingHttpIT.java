package dev.kvshare.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import dev.kvshare.testsupport.Http;
import dev.kvshare.testsupport.ServiceOnBundledModel;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;

/** {@code tool_choice: auto} streamed on the bundled model (Hermes): text streams, calls are held back. */
@ServiceOnBundledModel
class ToolCallStreamingHttpIT {

    @LocalServerPort
    int port;

    private Http.Response ask(long seed, boolean stream) {
        return new Http(port).post("/v1/chat/completions", """
                {"messages": [{"role": "user", "content": "Where is order A-1042? It arrived damaged."}],
                 "tools": [%s, %s], "tool_choice": "auto", "max_tokens": 60, "temperature": 1.0, "seed": %d,
                 "stream": %b}""".formatted(ToolCallingHttpIT.LOOKUP_ORDER, ToolCallingHttpIT.OPEN_RETURN,
                seed, stream));
    }

    @Test
    void aPlainTextReplyStreamsBeforeItEnds() {
        List<JsonNode> events = ask(1, true).events();
        JsonNode whole = ask(1, false).json().path("choices").path(0);
        assertThat(whole.path("message").has("tool_calls")).isFalse();
        int finish = 0;
        while (events.get(finish).path("choices").path(0).path("finish_reason").isNull()) {
            finish++;
        }
        long contentChunks = events.subList(1, finish).stream()
                .filter(e -> !e.path("choices").path(0).path("delta").path("content").asString("").isEmpty())
                .count();
        assertThat(contentChunks).isGreaterThan(1);
    }

    @Test
    void aStreamedReplySaysWhatTheWholeReplySays() {
        for (long seed = 0; seed < 8; seed++) {
            JsonNode whole = ask(seed, false).json().path("choices").path(0);
            StringBuilder content = new StringBuilder();
            List<String> calls = new ArrayList<>();
            String finishReason = null;
            for (JsonNode event : ask(seed, true).events()) {
                JsonNode choice = event.path("choices").path(0);
                content.append(choice.path("delta").path("content").asString(""));
                for (JsonNode call : choice.path("delta").path("tool_calls")) {
                    calls.add(call.path("function").toString());
                }
                if (choice.path("finish_reason").isString()) {
                    finishReason = choice.path("finish_reason").asString();
                }
            }
            List<String> wholeCalls = new ArrayList<>();
            whole.path("message").path("tool_calls").forEach(call -> wholeCalls.add(call.path("function").toString()));
            assertThat(content.toString()).as("seed %d", seed)
                    .isEqualTo(whole.path("message").path("content").asString(""));
            assertThat(calls).as("seed %d", seed).isEqualTo(wholeCalls);
            assertThat(finishReason).as("seed %d", seed).isEqualTo(whole.path("finish_reason").asString());
        }
    }
}
