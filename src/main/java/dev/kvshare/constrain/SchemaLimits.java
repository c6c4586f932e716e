package dev.kvshare.constrain;

/**
 * Bounds on a schema from a request, so that compiling one is cheap whatever is sent.
 *
 * @param maxDepth      schemas nested deeper than this are refused
 * @param maxNodes      at most this many subschemas (properties, items, alternatives, definitions)
 * @param maxEnumValues at most this many enum values per enum
 */
public record SchemaLimits(int maxDepth, int maxNodes, int maxEnumValues) {
}
