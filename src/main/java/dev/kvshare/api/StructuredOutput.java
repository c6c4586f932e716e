package dev.kvshare.api;

import java.util.function.Supplier;

import dev.kvshare.constrain.Grammar;
import dev.kvshare.constrain.Grammars;
import dev.kvshare.constrain.TokenConstraint;
import dev.kvshare.constrain.UnsupportedSchemaException;
import org.springframework.stereotype.Component;

/**
 * The constraint a chat request's output is generated under: a forced tool call's grammar, else its
 * {@code response_format}'s, else none. Compiled (or found in the cache) after every cheaper check (the prompt's
 * length first), so that a refused request never costs a compiled schema, and before the request is queued, so
 * that a bad schema is a 400 and costs no generation slot; so is a {@code max_tokens} too small for its shortest
 * value.
 */
@Component
class StructuredOutput {

    private static final String SCHEMA_PARAM = "response_format.json_schema.schema";

    private final Grammars grammars;

    StructuredOutput(Grammars grammars) {
        this.grammars = grammars;
    }

    /** The grammar of the request's output; null when it is free text. */
    Grammar grammar(ToolUse tools, ResponseFormat format) {
        if (tools.forced()) {
            try {
                return grammars.toolCall(tools.callable(), tools.format().argumentsKey());
            } catch (UnsupportedSchemaException e) {
                throw new InvalidRequestException("A tool's parameters: " + e.getMessage(), "tools");
            }
        }
        if (format == null || format.type() == null || format.type().equals("text")) {
            return null;
        }
        return switch (format.type()) {
            case "json_object" -> grammars.jsonObject();
            case "json_schema" -> schema(format.jsonSchema());
            default -> throw new InvalidRequestException("response_format.type must be text, json_object or "
                    + "json_schema", "response_format.type");
        };
    }

    /**
     * The constraint of a sequence of at most {@code maxTokens} under {@code grammar} (null: none), whose value
     * then always completes within them.
     *
     * @throws InvalidRequestException when {@code maxTokens} cannot hold the grammar's shortest value
     */
    static Supplier<TokenConstraint> constraint(Grammar grammar, int maxTokens, String maxParam) {
        if (grammar == null) {
            return () -> TokenConstraint.NONE;
        }
        int needed = grammar.minTokens();
        if (needed == Integer.MAX_VALUE) {
            throw new InvalidRequestException("No value of this schema can be written in this model's tokens (its "
                    + "shortest value is infinite, or uses bytes no token has)", maxParam);
        }
        if (needed > maxTokens) {
            throw new InvalidRequestException("The shortest value this schema allows takes " + needed
                    + " tokens of this model, but " + maxParam + " is " + maxTokens, maxParam);
        }
        return () -> grammar.newConstraint(maxTokens);
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
