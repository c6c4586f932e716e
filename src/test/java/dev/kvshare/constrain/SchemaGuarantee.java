package dev.kvshare.constrain;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;

import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The schemas of the guarantee tests (src/test/resources/schemas) and an independent validator for them. */
public final class SchemaGuarantee {

    public static final List<String> SCHEMAS = List.of("order", "enums", "arrays", "anyof", "recursive",
            "optional", "number", "free");

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final SchemaRegistry VALIDATORS =
            SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);

    private SchemaGuarantee() {
    }

    public static JsonNode schema(String name) {
        try (InputStream in = SchemaGuarantee.class.getResourceAsStream("/schemas/" + name + ".json")) {
            return JSON.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The validator's complaints about {@code text} as an instance of {@code schema}; empty when valid. */
    public static List<String> problems(JsonNode schema, String text) {
        JsonNode instance;
        try {
            instance = JSON.readTree(text);
        } catch (RuntimeException e) {
            return List.of("not JSON: " + e.getMessage());
        }
        Schema validator = VALIDATORS.getSchema(schema);
        return validator.validate(instance).stream().map(Object::toString).toList();
    }
}
