package dev.kvshare.api;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import dev.kvshare.generation.FinishReason;
import dev.kvshare.generation.GenerationResult;
import dev.kvshare.toolcall.ParsedReply;

/**
 * What the assistant said: text, or tool calls (finish reason {@code tool_calls}) when the request's tools are
 * in use and the reply holds calls. A reply cut off by {@code max_tokens} (finish reason {@code length}) or a
 * stop string is text, even a forced call: half a call cannot be run.
 */
record AssistantReply(String content, List<ToolCall> toolCalls, String finishReason) {

    static AssistantReply of(GenerationResult result, ToolUse tools) {
        if (!tools.active() || result.finishReason() != FinishReason.STOP) {
            return new AssistantReply(result.text(), null, result.finishReason().openAiName());
        }
        ParsedReply parsed = tools.forced() ? tools.parser().parseForced(result.text())
                : tools.parser().parse(result.text());
        if (parsed.calls().isEmpty()) {
            return new AssistantReply(result.text(), null, result.finishReason().openAiName());
        }
        List<ParsedReply.Call> calls = tools.parallel() ? parsed.calls() : parsed.calls().subList(0, 1);
        List<ToolCall> toolCalls = new ArrayList<>(calls.size());
        for (ParsedReply.Call call : calls) {
            toolCalls.add(new ToolCall(null, "call_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24),
                    "function", new ToolCall.Function(call.name(), call.arguments())));
        }
        return new AssistantReply(parsed.content(), toolCalls, "tool_calls");
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
