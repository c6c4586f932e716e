package dev.kvshare.api;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * A tool call: in an assistant message of a request or a response, and in a streamed delta (which adds
 * {@code index}).
 *
 * @param index the call's position, in streamed deltas only
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ToolCall(Integer index, String id, String type, Function function) {

    /** @param arguments the arguments object as JSON text */
    public record Function(String name, String arguments) {
    }
}
