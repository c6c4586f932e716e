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
 * @param cacheBytes      heap for compiled schemas (a quarter) and their token masks (the rest), weighed in bytes
 * @param maxStringChars  a generated string value is closed once it holds this many characters
 */
@ConfigurationProperties("kvshare.constrain")
public record ConstraintProperties(
        @DefaultValue("16") int maxSchemaDepth,
        @DefaultValue("1000") int maxSchemaNodes,
        @DefaultValue("1000") int maxEnumValues,
        @DefaultValue("64MB") DataSize cacheBytes,
        @DefaultValue("1024") int maxStringChars) {

    public static final ConstraintProperties DEFAULTS = new ConstraintProperties(16, 1000, 1000,
            DataSize.ofMegabytes(64), 1024);

    public ConstraintProperties {
        if (maxSchemaDepth < 1 || maxSchemaNodes < 1 || maxEnumValues < 1 || cacheBytes.toBytes() < 0
                || maxStringChars < 1) {
            throw new IllegalArgumentException("kvshare.constrain: every bound must be positive");
        }
    }

    SchemaLimits limits() {
        return new SchemaLimits(maxSchemaDepth, maxSchemaNodes, maxEnumValues);
    }
}
