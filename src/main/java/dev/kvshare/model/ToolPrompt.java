package dev.kvshare.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import tools.jackson.databind.json.JsonMapper;

/**
 * Tool use for a chat template that knows none (ChatML, the bundled model's): the tools are described in the
 * system message and an assistant's calls are written into its content, both in the model family's format,
 * the way tool-use templates of that family write them.
 */
final class ToolPrompt {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private ToolPrompt() {
    }

    static List<ChatTurn> inline(List<ChatTurn> turns, List<Map<String, Object>> tools, ToolCallFormat format) {
        List<ChatTurn> inlined = new ArrayList<>(turns.size() + 1);
        boolean hasTools = tools != null && !tools.isEmpty();
        if (hasTools && (turns.isEmpty() || !turns.get(0).role().equals("system"))) {
            inlined.add(new ChatTurn("system", describe(tools, format)));
        }
        for (int i = 0; i < turns.size(); i++) {
            ChatTurn turn = turns.get(i);
            String content = turn.content();
            if (i == 0 && hasTools && turn.role().equals("system")) {
                content = (content == null ? "" : content + "\n\n") + describe(tools, format);
            }
            if (turn.toolCalls() != null) {
                StringBuilder calls = new StringBuilder(content == null ? "" : content);
                for (Map<String, Object> call : turn.toolCalls()) {
                    calls.append(calls.isEmpty() ? "" : "\n").append(write(call, format));
                }
                content = calls.toString();
            }
            inlined.add(new ChatTurn(turn.role(), content, null, turn.toolCallId()));
        }
        return inlined;
    }

    private static String describe(List<Map<String, Object>> tools, ToolCallFormat format) {
        StringBuilder text = new StringBuilder("# Tools\n\nYou may call one or more functions to assist with the "
                + "user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>");
        for (Map<String, Object> tool : tools) {
            text.append('\n').append(JSON.writeValueAsString(tool));
        }
        return text.append("\n</tools>\n\n").append(format.instructions()).toString();
    }

    private static String write(Map<String, Object> call, ToolCallFormat format) {
        Object function = call.get("function") instanceof Map<?, ?> f ? f : call;
        Map<?, ?> fields = (Map<?, ?>) function;
        return format.writeCall(JSON.writeValueAsString(fields.get("name")),
                JSON.writeValueAsString(fields.get("arguments")));
    }
}
