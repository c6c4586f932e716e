package dev.kvshare.model;

/**
 * How a model family writes a tool call, as its chat template teaches it. Detected from the template's text;
 * {@code kvshare.tools.format} overrides.
 */
public enum ToolCallFormat {

    /** Hermes, Qwen 2.5: {@code <tool_call>\n{"name": ..., "arguments": {...}}\n</tool_call>}, one block per call. */
    HERMES("arguments"),
    /** Llama 3.1+: a bare JSON object {@code {"name": ..., "parameters": {...}}}. */
    LLAMA3_JSON("parameters");

    private final String argumentsKey;

    ToolCallFormat(String argumentsKey) {
        this.argumentsKey = argumentsKey;
    }

    /** The key of a call object that holds its arguments. */
    public String argumentsKey() {
        return argumentsKey;
    }

    /** The format a chat template teaches: Llama 3 markup means Llama's JSON; anything else Hermes (ChatML). */
    public static ToolCallFormat of(ChatTemplate template) {
        String source = template.source();
        if (source.contains("<tool_call>")) {
            return HERMES;
        }
        return source.contains("<|python_tag|>") || source.contains("<|start_header_id|>") ? LLAMA3_JSON : HERMES;
    }
}
