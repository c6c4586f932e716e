package dev.kvshare.api;

import java.util.function.Supplier;

import dev.kvshare.constrain.Grammar;
import dev.kvshare.constrain.Grammars;
import dev.kvshare.constrain.TokenConstraint;
import dev.kvshare.constrain.UnsupportedSchemaException;
import dev.kvshare.generation.InvalidRequestException;
import org.springframework.stereotype.Component;

/**
 * The constraint a chat request's output is generated under: a forced tool call's grammar, else its
 * {@code response_format}'s, else none. Compiled (or found in the cache) after every cheaper check (the prompt's
 * length first), so that a refused request never costs a compiled schema, and before the request is queued, so
 * that a bad schema is a 400 and costs no generation slot.
 */
@Component
class StructuredOutput {

    private static final String SCHEMA_PARAM = "response_format.json_schema.schema";

    private final Grammars grammars;

    StructuredOutput(Grammars grammars) {
        this.grammars = grammars;
    }

    Supplier<TokenConstraint> constraint(ToolUse tools, ResponseFormat format) {
        if (tools.forced()) {
            try {
                return grammars.toolCall(tools.callable(), tools.format().argumentsKey())::newConstraint;
            } catch (UnsupportedSchemaException e) {
                throw new InvalidRequestException("A tool's parameters: " + e.getMessage(), "tools");
            }
        }
        if (format == null || format.type() == null || format.type().equals("text")) {
            return () -> TokenConstraint.NONE;
        }
        Grammar grammar = switch (format.type()) {
            case "json_object" -> grammars.jsonObject();
            case "json_schema" -> schema(format.jsonSchema());
            default -> throw new InvalidRequestException("response_format.type must be text, json_object or "
                    + "json_schema", "response_format.type");
        };
        return grammar::newConstraint;
    }

    private Grammar schema(ResponseFormat.JsonSchema jsonSchema) {
        if (jsonSchema == null || jsonSchema.schema() == null || !jsonSchema.schema().isObject()) {
            throw new InvalidRequestException("response_format json_schema needs json_schema.schema, a JSON schema "
                    + "object", jsonSchema == null ? "response_format.json_schema" : SCHEMA_PARAM);
        }
        if (jsonSchema.name() == null || !jsonSchema.name().matches("[a-zA-Z0-9_-]{1,64}")) {
            throw new InvalidRequestException("json_schema.name must be 1 to 64 of a-z, A-Z, 0-9, _ and -",
                    "response_format.json_schema.name");
        }
        try {
            return grammars.schema(jsonSchema.schema());
        } catch (UnsupportedSchemaException e) {
            throw new InvalidRequestException(e.getMessage(), SCHEMA_PARAM);
        }
    }
}
