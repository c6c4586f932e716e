package dev.kvshare.api;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import dev.kvshare.generation.FinishReason;
import dev.kvshare.generation.GenerationResult;
import dev.kvshare.toolcall.ParsedReply;

/**
 * What the assistant said: text, or tool calls when the request's tools are in use and the reply holds calls.
 * A forced call always completes within {@code max_tokens} (finish reason {@code tool_calls}, or {@code length}
 * where the limit made it close early); only a stop string can cut one, and then it is text: half a call cannot
 * be run. A free reply's calls of declared tools are returned as calls; a call it wrote that cannot be run (an
 * undeclared tool, malformed, or cut off by {@code max_tokens}) is dropped from its text and counted in
 * {@code rejectedCalls}.
 */
record AssistantReply(String content, List<ToolCall> toolCalls, String finishReason, List<String> rejectedCalls) {

    static AssistantReply of(GenerationResult result, ToolUse tools) {
        String finishReason = result.finishReason().label();
        if (!tools.active()) {
            return new AssistantReply(result.text(), null, finishReason, List.of());
        }
        ParsedReply parsed = tools.forced() ? tools.parser().parseForced(result.text())
                : tools.parser().parse(result.text());
        if (parsed.calls().isEmpty()) {
            return new AssistantReply(parsed.content() == null ? "" : parsed.content(), null, finishReason,
                    parsed.rejected());
        }
        List<ParsedReply.Call> calls = tools.parallel() ? parsed.calls() : parsed.calls().subList(0, 1);
        List<ToolCall> toolCalls = new ArrayList<>(calls.size());
        for (ParsedReply.Call call : calls) {
            toolCalls.add(new ToolCall(null, "call_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24),
                    "function", new ToolCall.Function(call.name(), call.arguments())));
        }
        return new AssistantReply(parsed.content(), toolCalls,
                result.finishReason() == FinishReason.STOP ? "tool_calls" : finishReason, parsed.rejected());
    }

    /** The calls as streamed deltas, each with its index. */
    List<ToolCall> indexedToolCalls() {
        List<ToolCall> indexed = new ArrayList<>(toolCalls.size());
        for (int i = 0; i < toolCalls.size(); i++) {
            ToolCall call = toolCalls.get(i);
            indexed.add(new ToolCall(i, call.id(), call.type(), call.function()));
        }
        return indexed;
    }
}
