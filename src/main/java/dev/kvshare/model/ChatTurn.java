package dev.kvshare.model;

import java.util.List;
import java.util.Map;

/**
 * One message of a conversation, as a chat template sees it: {@code {"role": ..., "content": ...}}, and for tool
 * use {@code tool_calls} (an assistant's calls, each {@code {"id", "type", "function": {"name", "arguments"}}}
 * with the arguments as an object, as Hugging Face templates expect) and {@code tool_call_id} (a tool's result).
 */
public record ChatTurn(String role, String content, List<Map<String, Object>> toolCalls, String toolCallId) {

    public ChatTurn(String role, String content) {
        this(role, content, null, null);
    }
}
