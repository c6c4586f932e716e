package dev.kvshare.constrain;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import dev.kvshare.model.BundledModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.springframework.util.unit.DataSize;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The compiled-schema and mask caches stay within kvshare.constrain.cache-bytes by their own weighing, whatever
 * schemas arrive, and a grammar they evict is garbage once no sequence uses it (bundled model's vocabulary).
 */
@Execution(ExecutionMode.CONCURRENT) // CPU-bound, no native tensor: beside the other unit tests
class GrammarCacheBoundsTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final long BUDGET = DataSize.ofKilobytes(256).toBytes();
    private static final int VOCABULARY = 3072;

    private static TokenIndex index;

    @BeforeAll
    static void loadVocabulary() {
        index = TokenIndex.of(TokenVocabulary.load(BundledModel.extract().resolve("tokenizer.json"), VOCABULARY),
                Set.of(2));
    }

    private static Grammars grammars() {
        return new Grammars(index, new ConstraintProperties(16, 1000, 1000, DataSize.ofBytes(BUDGET), 64));
    }

    /** Walks a few bytes into a value of {@code grammar}, caching a mask per state on the way. */
    private static void use(Grammar grammar, String prefix) {
        TokenConstraint constraint = grammar.newConstraint();
        float[] logits = new float[VOCABULARY];
        constraint.mask(logits);
        for (char c : prefix.toCharArray()) {
            constraint.accept(tokenOf((byte) c));
            constraint.mask(logits);
        }
    }

    private static int tokenOf(byte b) {
        for (int id = 0; id < VOCABULARY; id++) {
            byte[] bytes = index.vocabulary().bytes(id);
            if (bytes != null && bytes.length == 1 && bytes[0] == b) {
                return id;
            }
        }
        throw new IllegalArgumentException("no token is the byte " + b);
    }

    @Test
    void aFloodOfDistinctSchemasStaysWithinTheBudgetAndEvictedGrammarsAreCollected() throws Exception {
        Grammars grammars = grammars();
        List<WeakReference<Object>> compiled = new ArrayList<>();
        int schemas = 1000;
        for (int i = 0; i < schemas; i++) {
            JsonNode schema = JSON.readTree("{\"type\":\"object\",\"properties\":{\"field" + i
                    + "\":{\"type\":\"string\"}},\"required\":[\"field" + i + "\"]}");
            Grammar grammar = grammars.schema(schema);
            use(grammar, "{\"field" + i + "\":\"ab");
            compiled.add(new WeakReference<>(grammar.root())); // the masks' states refer to its nodes
            assertThat(grammars.cachedBytes()).isLessThanOrEqualTo(BUDGET);
        }

        assertThat(grammars.cachedGrammars()).isBetween(1L, (long) schemas / 2);
        // the cached ones' schemas, and at most the last one still referenced from this frame
        assertThat(aliveAfterCollection(compiled)).isLessThanOrEqualTo(grammars.cachedGrammars() + 1);
    }

    @Test
    void hugeSchemasAreWeighedByTheirSizeNotCountedAsOneEntryEach() throws Exception {
        Grammars grammars = grammars();
        List<WeakReference<Object>> compiled = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            StringBuilder properties = new StringBuilder();
            for (int p = 0; p < 900; p++) {
                properties.append(p == 0 ? "" : ",").append("\"p").append(i).append('_').append(p).append("\":{}");
            }
            Grammar grammar = grammars.schema(JSON.readTree("{\"type\":\"object\",\"properties\":{" + properties
                    + "}}"));
            use(grammar, "{\"p" + i + "_");
            compiled.add(new WeakReference<>(grammar.root()));
            assertThat(grammars.cachedBytes()).isLessThanOrEqualTo(BUDGET);
        }

        assertThat(grammars.cachedGrammars()).isLessThan(10);
        assertThat(aliveAfterCollection(compiled)).isLessThanOrEqualTo(grammars.cachedGrammars() + 1);
    }

    @Test
    void aSchemaUsedAgainIsCompiledOnce() {
        Grammars grammars = grammars();
        JsonNode schema = JSON.readTree("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}}}");

        assertThat(grammars.schema(schema)).isSameAs(grammars.schema(schema.deepCopy()));
    }

    /** How many of {@code grammars} are still reachable once the collector has run (a bounded number of times). */
    private static long aliveAfterCollection(List<WeakReference<Object>> grammars) throws InterruptedException {
        long alive = grammars.size();
        for (int attempt = 0; attempt < 50; attempt++) {
            System.gc();
            Thread.sleep(20);
            long now = grammars.stream().filter(reference -> reference.get() != null).count();
            if (now == alive && attempt > 3) {
                break;
            }
            alive = now;
        }
        return alive;
    }
}
