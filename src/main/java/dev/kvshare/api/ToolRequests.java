package dev.kvshare.api;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import dev.kvshare.model.ServedModel;
import dev.kvshare.model.ToolCallFormat;
import dev.kvshare.toolcall.ToolProperties;
import org.springframework.stereotype.Component;

/**
 * Checks {@code tools}, {@code tool_choice} and {@code parallel_tool_calls} (OpenAI's rules) into a
 * {@link ToolUse}.
 */
@Component
class ToolRequests {

    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9_-]{1,64}");

    private final ToolProperties properties;
    private final ToolCallFormat format;

    ToolRequests(ToolProperties properties, ServedModel model) {
        this.properties = properties;
        this.format = properties.configuredFormat()
                .orElseGet(() -> ToolCallFormat.of(model.chatPrompts().template()));
    }

    ToolUse of(ChatCompletionRequest request) {
        return of(request.tools(), request.toolChoice(), request.parallelToolCalls());
    }

    /** {@code tools} (null: none), {@code tool_choice} and {@code parallel_tool_calls} as a chat request has them. */
    ToolUse of(List<Tool> declared, Object toolChoice, Boolean parallelToolCalls) {
        List<Tool> tools = declared == null ? List.of() : declared;
        if (tools.size() > properties.maxTools()) {
            throw new InvalidRequestException("A request may declare at most " + properties.maxTools() + " tools, not "
                    + tools.size(), "tools");
        }
        Set<String> names = new HashSet<>();
        for (int i = 0; i < tools.size(); i++) {
            Tool tool = tools.get(i);
            String param = "tools[" + i + "]";
            if (tool == null || !"function".equals(tool.type()) || tool.function() == null) {
                throw new InvalidRequestException("Each tool must be {\"type\": \"function\", \"function\": {...}}",
                        param);
            }
            String name = tool.function().name();
            if (name == null || !NAME.matcher(name).matches()) {
                throw new InvalidRequestException("A function name must be 1 to 64 of a-z, A-Z, 0-9, _ and -",
                        param + ".function.name");
            }
            if (!names.add(name)) {
                throw new InvalidRequestException("Two tools are named " + name, param + ".function.name");
            }
            if (tool.function().parameters() != null && !tool.function().parameters().isObject()) {
                throw new InvalidRequestException("parameters must be a JSON schema object",
                        param + ".function.parameters");
            }
        }
        ToolUse.Choice choice = ToolUse.Choice.AUTO;
        String named = null;
        if (toolChoice instanceof String mode) {
            choice = switch (mode) {
                case "none" -> ToolUse.Choice.NONE;
                case "auto" -> ToolUse.Choice.AUTO;
                case "required" -> ToolUse.Choice.REQUIRED;
                default -> throw new InvalidRequestException("tool_choice must be none, auto, required or "
                        + "{\"type\": \"function\", \"function\": {\"name\": ...}}", "tool_choice");
            };
        } else if (toolChoice instanceof Map<?, ?> object) {
            if (!"function".equals(object.get("type")) || !(object.get("function") instanceof Map<?, ?> function)
                    || !(function.get("name") instanceof String name)) {
                throw new InvalidRequestException("A named tool_choice is {\"type\": \"function\", \"function\": "
                        + "{\"name\": ...}}", "tool_choice");
            }
            if (!names.contains(name)) {
                throw new InvalidRequestException("tool_choice names " + OpenAiError.quote(name)
                        + ", which is not among the tools",
                        "tool_choice");
            }
            choice = ToolUse.Choice.NAMED;
            named = name;
        } else if (toolChoice != null) {
            throw new InvalidRequestException("tool_choice must be a string or an object", "tool_choice");
        }
        if (tools.isEmpty() && (choice == ToolUse.Choice.REQUIRED || choice == ToolUse.Choice.NAMED)) {
            throw new InvalidRequestException("tool_choice " + toolChoice + " needs tools", "tool_choice");
        }
        return new ToolUse(tools, choice, named, format, !Boolean.FALSE.equals(parallelToolCalls));
    }
}
