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
 *
 * <p>Both caches are weighed in bytes within {@code kvshare.constrain.cache-bytes}: compiled schemas (their
 * key's text and {@link SchemaFootprint}) a quarter of it, token masks the rest. An evicted grammar's masks are
 * dropped with it, and it caches no more (see {@link Grammar#evicted()}), so nothing keeps its schema alive
 * but the sequences still generating under it.
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
        long budget = properties.cacheBytes().toBytes();
        // weights in bytes: a mask's bits and array header beside its key; a schema's key as UTF-16 text
        this.masks = Caffeine.newBuilder().maximumWeight(budget - budget / 4)
                .<Grammar.MaskKey, long[]>weigher((key, bits) -> weight(key.bytes() + 16 + 8L * bits.length))
                .build();
        // an eviction listener runs as the entry leaves (a removal listener would run later, elsewhere)
        this.compiled = Caffeine.newBuilder().maximumWeight(budget / 4)
                .<String, Grammar>weigher((key, grammar) -> weight(40 + 2L * key.length() + grammar.footprint()))
                .<String, Grammar>evictionListener((key, grammar, cause) -> forgetMasks(grammar))
                .build();
    }

    private static int weight(long bytes) {
        return (int) Math.min(bytes, Integer.MAX_VALUE);
    }

    private void forgetMasks(Grammar grammar) {
        if (grammar != null) {
            grammar.evicted();
            masks.asMap().keySet().removeIf(key -> key.grammar() == grammar.number());
        }
    }

    /** The bytes both caches hold by their own weighing, after pending evictions: at most cache-bytes. */
    public long cachedBytes() {
        compiled.cleanUp();
        masks.cleanUp();
        return weightedSize(compiled) + weightedSize(masks);
    }

    /** How many compiled grammars the cache holds. */
    long cachedGrammars() {
        compiled.cleanUp();
        return compiled.estimatedSize();
    }

    private static long weightedSize(Cache<?, ?> cache) {
        return cache.policy().eviction().orElseThrow().weightedSize().orElseThrow();
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
