package dev.kvshare.constrain;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * {@code kvshare.constrain.*}: bounds on request schemas and the caches of constrained decoding.
 *
 * @param maxSchemaDepth  schemas nested deeper are refused (400)
 * @param maxSchemaNodes  schemas with more subschemas are refused (400)
 * @param maxEnumValues   enums with more values are refused (400)
 * @param cachedSchemas   compiled schemas kept, by their JSON text
 * @param maskCacheSize   memory for cached token masks (one bit per vocabulary entry and matcher state)
 * @param maxStringChars  a generated string value is closed once it holds this many characters
 */
@ConfigurationProperties("kvshare.constrain")
public record ConstraintProperties(
        @DefaultValue("16") int maxSchemaDepth,
        @DefaultValue("1000") int maxSchemaNodes,
        @DefaultValue("1000") int maxEnumValues,
        @DefaultValue("256") int cachedSchemas,
        @DefaultValue("64MB") DataSize maskCacheSize,
        @DefaultValue("1024") int maxStringChars) {

    public static final ConstraintProperties DEFAULTS = new ConstraintProperties(16, 1000, 1000, 256,
            DataSize.ofMegabytes(64), 1024);

    public ConstraintProperties {
        if (maxSchemaDepth < 1 || maxSchemaNodes < 1 || maxEnumValues < 1 || cachedSchemas < 1
                || maskCacheSize.toBytes() < 0 || maxStringChars < 1) {
            throw new IllegalArgumentException("kvshare.constrain: every bound must be positive");
        }
    }

    SchemaLimits limits() {
        return new SchemaLimits(maxSchemaDepth, maxSchemaNodes, maxEnumValues);
    }
}
