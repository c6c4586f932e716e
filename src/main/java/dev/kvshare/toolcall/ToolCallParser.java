package dev.kvshare.toolcall;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import dev.kvshare.model.ToolCallFormat;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads the tool calls out of a model's reply in its family's format. Only calls of declared tools with an
 * arguments object count. A call the service cannot run is dropped from the text rather than shown to the
 * customer as markup: where the format marks its calls (Hermes) every marked call that is not such a call (it
 * names an undeclared tool, or it is malformed or cut off); where it does not (Llama 3 JSON) a reply that is a
 * call object naming an undeclared tool ({@link ToolCallFormat#dropsMalformed()}). Other text stays text, so a
 * reply that merely looks like a call is not run.
 */
public final class ToolCallParser {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String UNDECLARED = "undeclared";
    private static final String MALFORMED = "malformed";

    private final ToolCallFormat format;
    private final Set<String> tools;

    /** @param tools the names of the request's tools */
    public ToolCallParser(ToolCallFormat format, Set<String> tools) {
        this.format = format;
        this.tools = Set.copyOf(tools);
    }

    /** A reply written freely ({@code tool_choice: auto}). */
    public ParsedReply parse(String text) {
        List<ParsedReply.Call> calls = new ArrayList<>();
        List<String> rejected = new ArrayList<>();
        StringBuilder content = new StringBuilder();
        int from = 0;
        for (ToolCallFormat.WrittenCall written : format.calls(text)) {
            Reading reading = read(written.json());
            if (reading.call() != null) {
                calls.add(reading.call());
            } else if (reading.rejected().equals(UNDECLARED) || format.dropsMalformed()) {
                rejected.add(reading.rejected());
            } else {
                continue; // text that merely looks like a call stays text
            }
            content.append(text, from, written.start());
            from = written.end();
        }
        if (calls.isEmpty() && rejected.isEmpty()) {
            return new ParsedReply(text, List.of());
        }
        content.append(text.substring(from));
        return new ParsedReply(content.toString().isBlank() ? null : content.toString().strip(), calls, rejected);
    }

    /**
     * A reply generated under the tool-call grammar ({@code tool_choice: required} or named): one call object in
     * this format's keys. A reply a stop string cut short is no call: it stays text.
     */
    public ParsedReply parseForced(String text) {
        Reading reading = read(text);
        return reading.call() != null ? new ParsedReply(null, List.of(reading.call()))
                : new ParsedReply(text, List.of());
    }

    /** A call of a declared tool, or else why {@code json} is none: {@link #UNDECLARED} or {@link #MALFORMED}. */
    private record Reading(ParsedReply.Call call, String rejected) {
    }

    private Reading read(String json) {
        JsonNode node;
        try {
            node = JSON.readTree(json);
        } catch (JacksonException notJson) {
            return new Reading(null, MALFORMED);
        }
        if (node == null || !node.isObject() || !node.path("name").isString()) {
            return new Reading(null, MALFORMED);
        }
        JsonNode arguments = node.has(format.argumentsKey()) ? node.get(format.argumentsKey())
                : node.path("arguments");
        if (!arguments.isObject()) {
            return new Reading(null, MALFORMED);
        }
        if (!tools.contains(node.path("name").asString())) {
            return new Reading(null, UNDECLARED);
        }
        return new Reading(new ParsedReply.Call(node.get("name").asString(), JSON.writeValueAsString(arguments)),
                null);
    }
}
