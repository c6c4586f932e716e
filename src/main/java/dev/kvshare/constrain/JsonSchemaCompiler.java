package dev.kvshare.constrain;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Compiles a JSON schema into {@link SchemaNode}s: OpenAI's strict subset (object with properties, required
 * and additionalProperties; string, number, integer, boolean, null; enum, const; array with items, minItems,
 * maxItems; anyOf; {@code $defs}/{@code definitions} with {@code $ref}, recursion included) and
 * annotations (description, title, ...). Everything else is refused by name rather than ignored, because
 * ignoring a keyword would let through values the schema forbids.
 */
final class JsonSchemaCompiler {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Set<String> ANNOTATIONS = Set.of("description", "title", "default", "examples", "$schema",
            "$id", "$comment", "deprecated", "readOnly", "writeOnly", "strict");
    private static final Set<String> KEYWORDS = Set.of("type", "properties", "required", "additionalProperties",
            "items", "minItems", "maxItems", "enum", "const", "anyOf", "$ref", "$defs", "definitions");
    private static final Set<String> STRUCTURE = Set.of("type", "properties", "required", "additionalProperties",
            "items", "minItems", "maxItems", "enum", "const", "anyOf");

    private final SchemaLimits limits;
    private final Map<String, SchemaNode> definitions = new HashMap<>();
    private final Set<String> references = new HashSet<>();
    /** Where each {@code $ref} is (its JSON pointer), and what it names. */
    private final Map<String, String> referenceSites = new LinkedHashMap<>();
    private final List<String> problems = new ArrayList<>();
    private int nodes;

    private JsonSchemaCompiler(SchemaLimits limits) {
        this.limits = limits;
    }

    /** @throws UnsupportedSchemaException naming every unsupported feature and exceeded bound found */
    static SchemaNode compile(JsonNode schema, SchemaLimits limits) {
        return new JsonSchemaCompiler(limits).root(schema);
    }

    private SchemaNode root(JsonNode schema) {
        for (String container : List.of("$defs", "definitions")) {
            JsonNode defs = schema.path(container);
            if (!defs.isMissingNode() && !defs.isObject()) {
                problems.add(container + " must be an object");
            }
            for (Map.Entry<String, JsonNode> def : defs.properties()) {
                String path = "#/" + container + "/" + def.getKey();
                definitions.put(path, node(def.getValue(), path, 1));
            }
        }
        SchemaNode root = node(schema, "#", 0);
        definitions.put("#", root);
        for (String reference : references) {
            if (!definitions.containsKey(reference)) {
                problems.add("$ref " + reference + " names no definition (only #, #/$defs/... and "
                        + "#/definitions/... are supported)");
            }
        }
        if (problems.isEmpty()) {
            for (String reference : references) {
                checkNotCircular(reference, new HashSet<>());
            }
        }
        if (problems.isEmpty()) {
            checkFinite();
        }
        if (!problems.isEmpty()) {
            throw new UnsupportedSchemaException(problems);
        }
        return root;
    }

    private SchemaNode node(JsonNode schema, String path, int depth) {
        if (depth > limits.maxDepth()) {
            problems.add("schema nested deeper than " + limits.maxDepth() + " levels at " + path);
            return new SchemaNode.AnyNode(0);
        }
        if (++nodes > limits.maxNodes()) {
            if (nodes == limits.maxNodes() + 1) {
                problems.add("schema has more than " + limits.maxNodes() + " subschemas");
            }
            return new SchemaNode.AnyNode(0);
        }
        if (schema.isBoolean()) {
            if (!schema.booleanValue()) {
                problems.add("false schema at " + path);
            }
            return new SchemaNode.AnyNode(0);
        }
        if (!schema.isObject()) {
            problems.add("a schema must be an object, at " + path);
            return new SchemaNode.AnyNode(0);
        }
        for (String keyword : schema.propertyNames()) {
            if (!KEYWORDS.contains(keyword) && !ANNOTATIONS.contains(keyword)) {
                problems.add(keyword + " at " + path);
            }
            if ((keyword.equals("$defs") || keyword.equals("definitions")) && !path.equals("#")) {
                problems.add(keyword + " below the root at " + path);
            }
        }
        if (schema.has("$ref")) {
            return reference(schema, path);
        }
        if (schema.has("anyOf")) {
            return anyOf(schema, path, depth);
        }
        if (schema.has("const")) {
            return new SchemaNode.LiteralsNode(new Literals(List.of(JSON.writeValueAsBytes(schema.get("const")))));
        }
        if (schema.has("enum")) {
            return enumeration(schema.get("enum"), path);
        }
        JsonNode type = schema.get("type");
        if (type == null) {
            return schema.has("properties") ? object(schema, path, depth)
                    : schema.has("items") ? array(schema, path, depth) : new SchemaNode.AnyNode(0);
        }
        if (type.isArray()) {
            List<SchemaNode> alternatives = new ArrayList<>();
            for (JsonNode one : type) {
                alternatives.add(typed(one, schema, path, depth));
            }
            if (alternatives.isEmpty()) {
                problems.add("empty type array at " + path);
            }
            return new SchemaNode.AnyOfNode(List.copyOf(alternatives));
        }
        return typed(type, schema, path, depth);
    }

    private SchemaNode typed(JsonNode type, JsonNode schema, String path, int depth) {
        switch (type.isString() ? type.asString() : "") {
            case "object":
                return object(schema, path, depth);
            case "array":
                return array(schema, path, depth);
            case "string":
                return new SchemaNode.StringNode();
            case "number":
                return new SchemaNode.NumberNode(false);
            case "integer":
                return new SchemaNode.NumberNode(true);
            case "boolean":
                return new SchemaNode.LiteralsNode(Literals.TRUE_FALSE);
            case "null":
                return new SchemaNode.LiteralsNode(Literals.NULL);
            default:
                problems.add("type " + type + " at " + path);
                return new SchemaNode.AnyNode(0);
        }
    }

    private SchemaNode object(JsonNode schema, String path, int depth) {
        JsonNode additional = schema.path("additionalProperties");
        if (!additional.isMissingNode() && !additional.isBoolean()) {
            problems.add("additionalProperties as a schema at " + path + " (only true or false)");
        }
        JsonNode properties = schema.path("properties");
        if (properties.isMissingNode() && !additional.isBoolean()) {
            return new SchemaNode.AnyObjectNode();
        }
        if (!properties.isMissingNode() && !properties.isObject()) {
            problems.add("properties must be an object at " + path);
            return new SchemaNode.AnyNode(0);
        }
        Set<String> required = new HashSet<>();
        for (JsonNode name : schema.path("required")) {
            if (!name.isString() || !properties.has(name.asString())) {
                problems.add("required names " + name + ", which is not among the properties at " + path);
            } else {
                required.add(name.asString());
            }
        }
        List<String> keys = new ArrayList<>();
        List<SchemaNode> nodes = new ArrayList<>();
        boolean[] isRequired = new boolean[properties.size()];
        for (Map.Entry<String, JsonNode> property : properties.properties()) {
            isRequired[keys.size()] = required.contains(property.getKey());
            keys.add(JSON.writeValueAsString(property.getKey()));
            nodes.add(node(property.getValue(), path + "/properties/" + property.getKey(), depth + 1));
        }
        return new SchemaNode.ObjectNode(keys, nodes, isRequired);
    }

    private SchemaNode array(JsonNode schema, String path, int depth) {
        SchemaNode items = schema.has("items") ? node(schema.get("items"), path + "/items", depth + 1)
                : new SchemaNode.AnyNode(0);
        int min = count(schema, "minItems", 0, path);
        int max = count(schema, "maxItems", -1, path);
        if (max >= 0 && max < min) {
            problems.add("maxItems below minItems at " + path);
        }
        return new SchemaNode.ArrayNode(items, min, max);
    }

    private int count(JsonNode schema, String keyword, int absent, String path) {
        JsonNode value = schema.get(keyword);
        if (value == null) {
            return absent;
        }
        if (!value.isIntegralNumber() || !value.canConvertToInt() || value.intValue() < 0
                || value.intValue() > limits.maxNodes()) {
            problems.add(keyword + " must be an integer from 0 to " + limits.maxNodes() + " at " + path);
            return absent;
        }
        return value.intValue();
    }

    private SchemaNode enumeration(JsonNode values, String path) {
        if (!values.isArray() || values.isEmpty() || values.size() > limits.maxEnumValues()) {
            problems.add("enum must be an array of 1 to " + limits.maxEnumValues() + " values at " + path);
            return new SchemaNode.AnyNode(0);
        }
        List<byte[]> texts = new ArrayList<>();
        for (JsonNode value : values) {
            texts.add(JSON.writeValueAsBytes(value));
        }
        return new SchemaNode.LiteralsNode(new Literals(texts));
    }

    private SchemaNode anyOf(JsonNode schema, String path, int depth) {
        structureBeside(schema, "anyOf", path);
        JsonNode alternatives = schema.get("anyOf");
        if (!alternatives.isArray() || alternatives.isEmpty()) {
            problems.add("anyOf must be a non-empty array at " + path);
            return new SchemaNode.AnyNode(0);
        }
        List<SchemaNode> nodes = new ArrayList<>();
        for (int i = 0; i < alternatives.size(); i++) {
            nodes.add(node(alternatives.get(i), path + "/anyOf/" + i, depth + 1));
        }
        return new SchemaNode.AnyOfNode(List.copyOf(nodes));
    }

    private SchemaNode reference(JsonNode schema, String path) {
        structureBeside(schema, "$ref", path);
        String ref = schema.get("$ref").isString() ? schema.get("$ref").asString() : "";
        references.add(ref);
        referenceSites.put(path, ref);
        return new SchemaNode.RefNode(ref, definitions);
    }

    /** anyOf and $ref stand alone: a type or properties beside them would be a second constraint to apply. */
    private void structureBeside(JsonNode schema, String keyword, String path) {
        for (String other : STRUCTURE) {
            if (!other.equals(keyword) && schema.has(other)) {
                problems.add(other + " beside " + keyword + " at " + path);
            }
        }
        if (keyword.equals("anyOf") && schema.has("$ref")) {
            problems.add("$ref beside anyOf at " + path);
        }
    }

    /** A $ref that reaches itself through refs and anyOf alone would never read a byte. */
    private void checkNotCircular(String reference, Set<String> seen) {
        if (!seen.add(reference)) {
            problems.add("circular $ref " + reference);
            return;
        }
        firstRefs(definitions.get(reference), seen);
        seen.remove(reference);
    }

    private void firstRefs(SchemaNode node, Set<String> seen) {
        if (node instanceof SchemaNode.RefNode ref && problems.isEmpty()) {
            checkNotCircular(ref.ref(), seen);
        } else if (node instanceof SchemaNode.AnyOfNode anyOf) {
            anyOf.alternatives().forEach(alternative -> firstRefs(alternative, seen));
        }
    }

    /**
     * A definition whose every value must contain a value of itself (through required properties or minItems)
     * has no value that ends: the matcher would follow it until its stack is full and fail mid-generation.
     * Which definitions have a finite value is the least fixpoint of "some value of it is made of finite
     * parts", starting from none.
     */
    private void checkFinite() {
        Set<String> finite = new HashSet<>();
        boolean grew = true;
        while (grew) {
            grew = false;
            for (Map.Entry<String, SchemaNode> definition : definitions.entrySet()) {
                if (!finite.contains(definition.getKey()) && hasFiniteValue(definition.getValue(), finite)) {
                    grew = finite.add(definition.getKey());
                }
            }
        }
        referenceSites.forEach((path, ref) -> {
            if (!finite.contains(ref)) {
                problems.add("$ref " + ref + " at " + path + " has no finite value: each of its values would have "
                        + "to contain another (make the recursion optional, or give it an alternative that ends)");
            }
        });
    }

    /** Whether {@code node} has a finite value, given the definitions known to have one. */
    private static boolean hasFiniteValue(SchemaNode node, Set<String> finiteDefinitions) {
        if (node instanceof SchemaNode.RefNode ref) {
            return finiteDefinitions.contains(ref.ref());
        }
        if (node instanceof SchemaNode.AnyOfNode anyOf) {
            return anyOf.alternatives().stream().anyMatch(alternative -> hasFiniteValue(alternative,
                    finiteDefinitions));
        }
        if (node instanceof SchemaNode.ArrayNode array) {
            return array.minItems() == 0 || hasFiniteValue(array.items(), finiteDefinitions);
        }
        if (node instanceof SchemaNode.ObjectNode object) {
            return object.requiredPropertiesMatch(property -> hasFiniteValue(property, finiteDefinitions));
        }
        return true;
    }
}
