package dev.kvshare.api;

import tools.jackson.databind.JsonNode;

/** A request's {@code tools[]} entry: {@code {"type": "function", "function": {...}}}. */
public record Tool(String type, Function function) {

    /** @param parameters the JSON schema of the arguments object; null for none */
    public record Function(String name, String description, JsonNode parameters, Boolean strict) {
    }
}
