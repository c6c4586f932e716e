package dev.kvshare.api;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import dev.kvshare.constrain.Grammars;
import dev.kvshare.model.ToolCallFormat;
import dev.kvshare.toolcall.ToolCallParser;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * A chat request's checked tool settings.
 *
 * @param named    the function {@code tool_choice} names, for {@link Choice#NAMED}
 * @param parallel {@code parallel_tool_calls}: whether a free reply may carry several calls
 */
record ToolUse(List<Tool> tools, Choice choice, String named, ToolCallFormat format, boolean parallel) {

    enum Choice { NONE, AUTO, REQUIRED, NAMED }

    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** Whether the reply is read for tool calls. */
    boolean active() {
        return !tools.isEmpty() && choice != Choice.NONE;
    }

    /** Whether the reply must be one call, generated under the tools' grammar. */
    boolean forced() {
        return choice == Choice.REQUIRED || choice == Choice.NAMED;
    }

    /** The tools as the chat template sees them: plain maps, {@code tool | tojson} as Hugging Face renders it. */
    List<Map<String, Object>> templateTools() {
        return tools.isEmpty() ? null : JSON.convertValue(tools, new TypeReference<List<Map<String, Object>>>() {
        });
    }

    /** The functions a forced call may name. */
    List<Grammars.ToolSchema> callable() {
        return tools.stream().map(Tool::function)
                .filter(function -> choice != Choice.NAMED || function.name().equals(named))
                .map(function -> new Grammars.ToolSchema(function.name(), function.parameters()))
                .toList();
    }

    ToolCallParser parser() {
        return new ToolCallParser(format, tools.stream().map(tool -> tool.function().name())
                .collect(Collectors.toSet()));
    }
}
