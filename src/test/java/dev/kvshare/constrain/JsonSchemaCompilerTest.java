package dev.kvshare.constrain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class JsonSchemaCompilerTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final SchemaLimits LIMITS = ConstraintProperties.DEFAULTS.limits();

    private static SchemaNode compile(String schema) {
        return JsonSchemaCompiler.compile(JSON.readTree(schema), LIMITS);
    }

    /** Whether the matcher accepts {@code text} as a complete value of {@code schema}. */
    private static boolean accepts(String schema, String text) {
        MatchState state = MatchState.start(compile(schema));
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            state = state.step(b & 0xFF);
            if (state == null) {
                return false;
            }
        }
        return state.accepting();
    }

    @Test
    void unsupportedFeaturesAreNamedAllAtOnce() {
        assertThatThrownBy(() -> compile("""
                {"type":"object","properties":{"a":{"type":"string","pattern":"^x"},"b":{"oneOf":[{"type":"null"}]},
                 "c":{"type":"string","format":"email"}},"required":["a","b","c"],"additionalProperties":false}"""))
                .isInstanceOf(UnsupportedSchemaException.class)
                .hasMessageContaining("pattern at #/properties/a")
                .hasMessageContaining("oneOf at #/properties/b")
                .hasMessageContaining("format at #/properties/c");
    }

    @Test
    void hostileShapesAreRefused() {
        assertThatThrownBy(() -> compile(
                "{\"$ref\":\"#/$defs/a\",\"$defs\":{\"a\":{\"anyOf\":[{\"$ref\":\"#/$defs/a\"}]}}}"))
                .hasMessageContaining("circular $ref");
        assertThatThrownBy(() -> compile("{\"$ref\":\"https://example.com/schema\"}"))
                .hasMessageContaining("names no definition");
        String deep = "{\"type\":\"array\",\"items\":".repeat(40) + "{\"type\":\"null\"}" + "}".repeat(40);
        assertThatThrownBy(() -> compile(deep)).hasMessageContaining("nested deeper than 16");
        assertThatThrownBy(() -> compile("{\"type\":\"object\",\"properties\":{},\"required\":[\"x\"]}"))
                .hasMessageContaining("required names \"x\"");
        assertThatThrownBy(() -> compile("{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\"}}"))
                .hasMessageContaining("additionalProperties as a schema");
    }

    @Test
    void aSchemaWhoseValuesMustContainThemselvesIsRefusedNamingTheRef() {
        assertThatThrownBy(() -> compile("{\"type\":\"object\",\"properties\":{\"a\":{\"$ref\":\"#\"}},"
                + "\"required\":[\"a\"]}"))
                .isInstanceOf(UnsupportedSchemaException.class)
                .hasMessageContaining("$ref # at #/properties/a has no finite value");
        assertThatThrownBy(() -> compile("""
                {"$ref":"#/$defs/node","$defs":{"node":{"type":"object","properties":{
                 "children":{"type":"array","items":{"$ref":"#/$defs/node"},"minItems":1}},"required":["children"]}}}"""))
                .hasMessageContaining("$ref #/$defs/node at #/$defs/node/properties/children/items has no finite")
                .hasMessageContaining("$ref #/$defs/node at # has no finite value");
    }

    @Test
    void recursionThatCanEndIsAccepted() {
        String optional = "{\"type\":\"object\",\"properties\":{\"a\":{\"$ref\":\"#\"}}}";
        assertThat(accepts(optional, "{\"a\":{\"a\":{}}}")).isTrue();
        String emptyArray = """
                {"type":"object","properties":{"children":{"type":"array","items":{"$ref":"#"}}},
                 "required":["children"]}""";
        assertThat(accepts(emptyArray, "{\"children\":[{\"children\":[]}]}")).isTrue();
        String nullable = """
                {"$ref":"#/$defs/list","$defs":{"list":{"type":"object","properties":{
                 "next":{"anyOf":[{"$ref":"#/$defs/list"},{"type":"null"}]}},"required":["next"]}}}""";
        assertThat(accepts(nullable, "{\"next\":{\"next\":null}}")).isTrue();
    }

    @Test
    void theMatcherFollowsTheSchema() {
        String order = "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\"},"
                + "\"n\":{\"type\":\"integer\"}},"
                + "\"required\":[\"id\",\"n\"],\"additionalProperties\":false}";
        assertThat(accepts(order, "{\"id\":\"A-1\",\"n\":-12}")).isTrue();
        assertThat(accepts(order, "{\"id\":\"A-1\"}")).isFalse();
        assertThat(accepts(order, "{\"id\":\"A-1\",\"n\":1.5}")).isFalse();
        assertThat(accepts(order, "{\"n\":1,\"id\":\"x\"}")).as("declared order").isFalse();
        assertThat(accepts("{\"type\":\"string\"}", "\"caf\u00e9 \\n\"")).isTrue();
        assertThat(accepts("{\"type\":\"string\"}", "\"a\nb\"")).as("raw control character").isFalse();
        assertThat(accepts("{\"enum\":[1,12,\"x\"]}", "1")).isTrue();
        assertThat(accepts("{\"enum\":[1,12,\"x\"]}", "12")).isTrue();
        assertThat(accepts("{\"enum\":[1,12,\"x\"]}", "13")).isFalse();
        assertThat(accepts("{\"type\":\"number\"}", "-0.5e+10")).isTrue();
        assertThat(accepts("{\"type\":\"number\"}", "01")).isFalse();
        assertThat(accepts("{\"type\":\"array\",\"items\":{\"type\":\"boolean\"},\"minItems\":1,\"maxItems\":2}",
                "[]")).isFalse();
        assertThat(accepts("{\"type\":\"array\",\"items\":{\"type\":\"boolean\"},\"minItems\":1,\"maxItems\":2}",
                "[true,false]")).isTrue();
        assertThat(accepts("{\"type\":\"array\",\"items\":{\"type\":\"boolean\"},\"minItems\":1,\"maxItems\":2}",
                "[true,false,true]")).isFalse();
        assertThat(accepts("{\"type\":\"object\"}", "{\"a\":[1,{\"b\":null}],\"c\":\"d\"}")).isTrue();
    }

    @Test
    void undecidedAlternativesAreBoundedAndWhatIsKeptStaysValid() {
        StringBuilder schema = new StringBuilder("{\"anyOf\": [");
        for (int i = 0; i < 300; i++) {
            schema.append(i == 0 ? "" : ",").append("{\"type\":\"object\",\"properties\":{\"a\":{\"const\":")
                    .append(i).append("}},\"required\":[\"a\"],\"additionalProperties\":false}");
        }
        MatchState state = MatchState.start(compile(schema.append("]}").toString()));
        for (byte b : "{\"a\":".getBytes(StandardCharsets.UTF_8)) {
            state = state.step(b);
        }
        assertThat(state.alternatives()).isEqualTo(Successors.MAX_ALTERNATIVES);
        for (byte b : "1}".getBytes(StandardCharsets.UTF_8)) {
            state = state.step(b);
        }
        assertThat(state.terminal()).isTrue();
    }

    @Test
    void aUtf8SequenceMustBeWellFormed() {
        MatchState state = MatchState.start(compile("{\"type\":\"string\"}")).step('"');
        assertThat(state.step(0xC0)).as("overlong lead byte").isNull();
        assertThat(state.step(0xED).step(0xA0)).as("surrogate").isNull();
        assertThat(state.step(0xE2).step(0x82).step('"')).as("cut inside a character").isNull();
    }
}
