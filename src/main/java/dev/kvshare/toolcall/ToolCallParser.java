package dev.kvshare.toolcall;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.kvshare.model.ToolCallFormat;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads the tool calls out of a model's reply in its family's format. Only calls of declared tools with an
 * arguments object count; anything else stays text, so a reply that merely looks like a call is not run.
 */
public final class ToolCallParser {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    /** A Hermes block; the closing tag may be missing when the reply ended right after the JSON. */
    private static final Pattern HERMES_BLOCK = Pattern.compile("<tool_call>\\s*(.*?)\\s*(?:</tool_call>|$)",
            Pattern.DOTALL);

    private final ToolCallFormat format;
    private final Set<String> tools;

    /** @param tools the names of the request's tools */
    public ToolCallParser(ToolCallFormat format, Set<String> tools) {
        this.format = format;
        this.tools = Set.copyOf(tools);
    }

    /** A reply written freely ({@code tool_choice: auto}). */
    public ParsedReply parse(String text) {
        return format == ToolCallFormat.HERMES ? hermes(text) : json(text);
    }

    /**
     * A reply generated under the tool-call grammar ({@code tool_choice: required} or named): one call object in
     * this format's keys. A reply a stop string cut short is no call: it stays text.
     */
    public ParsedReply parseForced(String text) {
        return call(text).map(call -> new ParsedReply(null, List.of(call)))
                .orElseGet(() -> new ParsedReply(text, List.of()));
    }

    private ParsedReply hermes(String text) {
        List<ParsedReply.Call> calls = new ArrayList<>();
        StringBuilder content = new StringBuilder();
        Matcher block = HERMES_BLOCK.matcher(text);
        int from = 0;
        while (block.find()) {
            Optional<ParsedReply.Call> call = call(block.group(1));
            if (call.isEmpty()) {
                continue;
            }
            calls.add(call.get());
            content.append(text, from, block.start());
            from = block.end();
        }
        content.append(text.substring(from));
        return reply(content.toString(), calls, text);
    }

    private ParsedReply json(String text) {
        Optional<ParsedReply.Call> call = call(text.strip());
        return call.map(c -> new ParsedReply(null, List.of(c))).orElseGet(() -> new ParsedReply(text, List.of()));
    }

    private static ParsedReply reply(String content, List<ParsedReply.Call> calls, String text) {
        if (calls.isEmpty()) {
            return new ParsedReply(text, List.of());
        }
        return new ParsedReply(content.isBlank() ? null : content.strip(), calls);
    }

    private Optional<ParsedReply.Call> call(String json) {
        JsonNode node;
        try {
            node = JSON.readTree(json);
        } catch (JacksonException notJson) {
            return Optional.empty();
        }
        if (node == null || !node.isObject() || !node.path("name").isString()
                || !tools.contains(node.path("name").asString())) {
            return Optional.empty();
        }
        JsonNode arguments = node.has(format.argumentsKey()) ? node.get(format.argumentsKey())
                : node.path("arguments");
        if (!arguments.isObject()) {
            return Optional.empty();
        }
        return Optional.of(new ParsedReply.Call(node.get("name").asString(), JSON.writeValueAsString(arguments)));
    }
}
