package dev.kvshare.constrain;

import java.util.ArrayList;
import java.util.List;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Compiles and caches the grammars of requests for the served model: {@code response_format} schemas,
 * {@code json_object}, and forced tool calls. A schema's JSON text is its cache key, so that a client sending
 * the same schema every time (Spring AI does) compiles it once.
 */
public final class Grammars {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final TokenIndex index;
    private final SchemaLimits limits;
    private final int maxStringChars;
    private final Cache<String, Grammar> compiled;
    private final Cache<Grammar.MaskKey, long[]> masks;

    public Grammars(TokenIndex index, ConstraintProperties properties) {
        this.index = index;
        this.limits = properties.limits();
        this.maxStringChars = properties.maxStringChars();
        this.compiled = Caffeine.newBuilder().maximumSize(properties.cachedSchemas()).build();
        this.masks = Caffeine.newBuilder().maximumWeight(properties.maskCacheSize().toBytes())
                .<Grammar.MaskKey, long[]>weigher((key, bits) -> bits.length * Long.BYTES).build();
    }

    /**
     * The grammar of values of {@code schema}.
     *
     * @throws UnsupportedSchemaException if it uses what is not supported or exceeds the bounds
     */
    public Grammar schema(JsonNode schema) {
        return compiled.get("schema:" + schema, key -> grammar(JsonSchemaCompiler.compile(schema, limits)));
    }

    /** Any JSON object ({@code response_format: json_object}). */
    public Grammar jsonObject() {
        return compiled.get("json_object", key -> grammar(new SchemaNode.AnyObjectNode()));
    }

    /**
     * One call of one of {@code tools}: {@code {"name": <one of the names>, "<argumentsKey>": <its parameters>}}.
     *
     * @throws UnsupportedSchemaException if a tool's parameters cannot be compiled
     */
    public Grammar toolCall(List<ToolSchema> tools, String argumentsKey) {
        return compiled.get("tools:" + argumentsKey + ":" + JSON.writeValueAsString(tools), key -> {
            List<SchemaNode> calls = new ArrayList<>();
            for (ToolSchema tool : tools) {
                SchemaNode parameters = tool.parameters() == null || tool.parameters().isNull()
                        ? new SchemaNode.ObjectNode(List.of(), List.of(), new boolean[0])
                        : JsonSchemaCompiler.compile(tool.parameters(), limits);
                calls.add(new SchemaNode.ObjectNode(
                        List.of("\"name\"", JSON.writeValueAsString(argumentsKey)),
                        List.of(new SchemaNode.LiteralsNode(new Literals(List.of(JSON.writeValueAsBytes(tool.name())))),
                                parameters),
                        new boolean[] {true, true}));
            }
            return grammar(calls.size() == 1 ? calls.get(0) : new SchemaNode.AnyOfNode(List.copyOf(calls)));
        });
    }

    private Grammar grammar(SchemaNode root) {
        return new Grammar(root, index, masks, maxStringChars);
    }

    /** A function a forced tool call may name, and the JSON schema of its arguments (null: none). */
    public record ToolSchema(String name, JsonNode parameters) {
    }
}
