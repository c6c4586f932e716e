package dev.kvshare.api;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.kvshare.model.ChatTurn;
import tools.jackson.core.JacksonException;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/** A chat request's {@code messages} as the conversation the chat template renders. */
final class ChatTurns {

    /** OpenAI's roles; chat templates know these and treat others unpredictably. */
    private static final List<String> ROLES = List.of("system", "developer", "user", "assistant", "tool");
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private ChatTurns() {
    }

    static List<ChatTurn> of(List<ChatCompletionRequest.Message> messages) {
        if (messages == null || messages.isEmpty()) {
            throw new InvalidRequestException("messages must be a non-empty array", "messages");
        }
        List<ChatTurn> turns = new ArrayList<>(messages.size());
        for (int i = 0; i < messages.size(); i++) {
            turns.add(turn(messages.get(i), "messages[" + i + "]"));
        }
        return turns;
    }

    private static ChatTurn turn(ChatCompletionRequest.Message message, String param) {
        if (message == null || message.role() == null || message.role().isBlank()) {
            throw new InvalidRequestException("Every message needs a role", "messages");
        }
        if (!ROLES.contains(message.role())) {
            throw new InvalidRequestException("A message's role must be one of " + ROLES, "messages");
        }
        List<ToolCall> calls = message.toolCalls();
        if (calls != null && !message.role().equals("assistant")) {
            throw new InvalidRequestException("Only assistant messages carry tool_calls", param + ".tool_calls");
        }
        return new ChatTurn(message.role(), text(message.content()),
                calls == null || calls.isEmpty() ? null : toolCalls(calls, param + ".tool_calls"),
                message.toolCallId());
    }

    /** An assistant's calls with their arguments parsed, as Hugging Face templates take them. */
    private static List<Map<String, Object>> toolCalls(List<ToolCall> calls, String param) {
        List<Map<String, Object>> parsed = new ArrayList<>(calls.size());
        for (ToolCall call : calls) {
            if (call == null || call.function() == null || call.function().name() == null) {
                throw new InvalidRequestException("Each tool call needs function.name", param);
            }
            Map<String, Object> arguments;
            try {
                arguments = call.function().arguments() == null ? Map.of()
                        : JSON.readValue(call.function().arguments(), new TypeReference<Map<String, Object>>() {
                        });
            } catch (JacksonException e) {
                throw new InvalidRequestException("A tool call's function.arguments must be a JSON object", param);
            }
            Map<String, Object> function = new LinkedHashMap<>();
            function.put("name", call.function().name());
            function.put("arguments", arguments);
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("id", call.id());
            entry.put("type", "function");
            entry.put("function", function);
            parsed.add(entry);
        }
        return parsed;
    }

    /** A message's content: a string, or the text parts of a content array joined. */
    private static String text(Object content) {
        if (content == null) {
            return "";
        }
        if (content instanceof String text) {
            return text;
        }
        if (content instanceof List<?> parts) {
            StringBuilder text = new StringBuilder();
            for (Object part : parts) {
                if (!(part instanceof Map<?, ?> map) || !"text".equals(map.get("type"))
                        || !(map.get("text") instanceof String partText)) {
                    throw new InvalidRequestException("Only text content parts are supported", "messages");
                }
                text.append(partText);
            }
            return text.toString();
        }
        throw new InvalidRequestException("Message content must be a string or an array of text parts", "messages");
    }
}
