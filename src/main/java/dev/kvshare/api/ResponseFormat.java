package dev.kvshare.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import tools.jackson.databind.JsonNode;

/**
 * {@code response_format}: {@code {"type": "text"}}, {@code {"type": "json_object"}} or
 * {@code {"type": "json_schema", "json_schema": {"name", "schema", "strict"}}}.
 */
public record ResponseFormat(String type, @JsonProperty("json_schema") JsonSchema jsonSchema) {

    public record JsonSchema(String name, String description, JsonNode schema, Boolean strict) {
    }
}
