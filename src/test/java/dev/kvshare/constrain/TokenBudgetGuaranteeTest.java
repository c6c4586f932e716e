package dev.kvshare.constrain;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

import dev.kvshare.generation.Sampler;
import dev.kvshare.generation.SamplingParams;
import dev.kvshare.testsupport.TestModels;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;

/**
 * With a token limit, every value completes and validates within it, over the real vocabularies of the bundled
 * model and both reference exports, for schemas and forced tool calls, temperatures 0 to 1.5 and limits from
 * the schema's shortest value (the
 * fewest tokens {@link Grammar#minTokens()} says it takes) to 120. Logits are random, and for half the seeds
 * they favour tokens that stay inside a string: a model that rambles and never closes one.
 */
@Execution(ExecutionMode.CONCURRENT) // CPU-bound, no native tensor: beside the other unit tests
class TokenBudgetGuaranteeTest {

    private static final List<String> SCHEMAS = new ArrayList<>(SchemaGuarantee.SCHEMAS);
    private static final double[] TEMPERATURES = {0, 0.5, 1.0, 1.5};
    private static final int SEEDS = 4;

    /** A forced call of one of two tools: what the tool-call grammar generates, as a schema to validate it by. */
    private static final String FORCED_CALL = "forced-call";

    static {
        SCHEMAS.add("ticket");
        SCHEMAS.add(FORCED_CALL);
    }

    @ParameterizedTest
    @ValueSource(strings = {TestModels.BUNDLED, TestModels.GPT2, TestModels.LLAMA})
    void everyValueCompletesAndValidatesWithinItsTokenLimit(String model) {
        TestVocabulary vocabulary = TestVocabulary.of(model);
        TokenIndex index = vocabulary.index();
        int eos = vocabulary.eos();
        Grammars grammars = new Grammars(index, ConstraintProperties.DEFAULTS);
        // odd seeds ramble: their logits favour the tokens that stay inside a string
        RandomLogits[] logits = new RandomLogits[SEEDS];
        for (int seed = 0; seed < SEEDS; seed++) {
            logits[seed] = new RandomLogits(seed, index.vocabulary().size(),
                    seed % 2 == 1 ? index.stringSafe() : null);
        }
        int cutShort = 0;
        for (String name : SCHEMAS) {
            JsonNode schema = SchemaGuarantee.schema(name);
            JsonNode outage = schema.path("anyOf").path(0).path("properties").path("arguments");
            Grammar grammar = name.equals(FORCED_CALL) ? grammars.toolCall(List.of(
                    new Grammars.ToolSchema("check_outage", outage),
                    new Grammars.ToolSchema("open_ticket", SchemaGuarantee.schema("ticket"))), "arguments")
                    : grammars.schema(schema);
            int shortest = grammar.minTokens();
            if (!vocabulary.canEnd() && name.equals("number")) {
                // no end-of-sequence token within this export's logits, and a top-level number can always grow:
                // the service refuses such a request (400) rather than promise a value it cannot end
                assertThat(shortest).isEqualTo(CompletionBudget.UNREACHABLE);
                continue;
            }
            assertThat(shortest).as("%s on %s", name, model).isBetween(1, 60);
            for (int limit : new int[] {shortest, Math.max(shortest, 20), Math.max(shortest, 40), 120}) {
                for (double temperature : TEMPERATURES) {
                    for (int seed = 0; seed < SEEDS; seed++) {
                        Output output = generate(grammar, index, eos, limit, temperature, seed, logits[seed]);
                        String what = "%s on %s, limit %d, temperature %s, seed %d: %s".formatted(name, model, limit,
                                temperature, seed, output.text());
                        assertThat(output.ended()).as(what).isTrue();
                        assertThat(output.tokens()).as(what).isLessThanOrEqualTo(limit);
                        assertThat(SchemaGuarantee.problems(schema, output.text())).as(what).isEmpty();
                        cutShort += output.cutShort() ? 1 : 0;
                    }
                }
            }
        }
        assertThat(cutShort).as("values the limit made close early").isGreaterThan(SCHEMAS.size() * 4);
    }

    /** Generates under the limit with the service's own sampler on {@code logits}, the seed's random logits. */
    private static Output generate(Grammar grammar, TokenIndex index, int eos, int limit, double temperature,
                                   int seed, RandomLogits logits) {
        TokenConstraint constraint = grammar.newConstraint(limit);
        Sampler sampler = new Sampler(new SamplingParams(temperature, 0, 1.0, 0, 0, OptionalLong.of(seed)),
                constraint);
        TokenVocabulary vocabulary = index.vocabulary();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int step = 1; step <= limit; step++) {
            int token = sampler.next(logits.at(step));
            if (token != eos) {
                bytes.writeBytes(vocabulary.bytes(token));
            }
            if (token == eos || sampler.constraintComplete()) {
                return new Output(bytes.toString(StandardCharsets.UTF_8), step, true, sampler.constraintCutShort());
            }
        }
        return new Output(bytes.toString(StandardCharsets.UTF_8), limit, false, sampler.constraintCutShort());
    }

    private record Output(String text, int tokens, boolean ended, boolean cutShort) {
    }
}
