package dev.kvshare.constrain;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.OptionalLong;
import java.util.SplittableRandom;

import dev.kvshare.generation.Sampler;
import dev.kvshare.generation.SamplingParams;
import dev.kvshare.testsupport.TestModels;
import org.springframework.util.unit.DataSize;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;

/**
 * The guarantee with random weights: logits drawn at random every step (any model's worst case), sampled by
 * the service's own {@link Sampler} through the constraint, over three real vocabularies (byte-level BPE of
 * the bundled model and GPT-2, SentencePiece with byte fallback of Llama). Every output that ends validates
 * against its schema, and an output that does not end ran into the token limit.
 *
 * <p>Concurrent with the other unit tests (the pom's JUnit parameters): it is CPU-bound for tens of seconds and
 * touches no native tensor, so it can run beside tests that count them.
 */
@Execution(ExecutionMode.CONCURRENT)
class ConstrainedSamplingGuaranteeTest {

    private static final int SEEDS = 25;
    private static final int MAX_TOKENS = 400;
    /** Random logits seldom pick a quote: strings close at 64 characters, as the HTTP tests configure too. */
    private static final ConstraintProperties SHORT_STRINGS = new ConstraintProperties(16, 1000, 1000,
            DataSize.ofMegabytes(8), 64);

    @ParameterizedTest
    @ValueSource(strings = {TestModels.BUNDLED, TestModels.GPT2, TestModels.LLAMA})
    void everyEndedOutputValidatesAndNoneIsCutOffBeforeTheLimit(String model) {
        TestVocabulary test = TestVocabulary.of(model);
        TokenVocabulary vocabulary = test.vocabulary();
        int eos = test.eos();
        Grammars grammars = new Grammars(test.index(), SHORT_STRINGS);
        for (String name : SchemaGuarantee.SCHEMAS) {
            JsonNode schema = SchemaGuarantee.schema(name);
            int ended = 0;
            Grammar grammar = grammars.schema(schema);
            for (int seed = 0; seed < SEEDS; seed++) {
                Output output = generate(grammar, vocabulary, eos, seed);
                if (output.ended()) {
                    ended++;
                    assertThat(SchemaGuarantee.problems(schema, output.text()))
                            .as("%s seed %d on %s: %s", name, seed, model, output.text()).isEmpty();
                } else {
                    assertThat(output.tokens()).as("%s seed %d: unfinished before the limit", name, seed)
                            .isEqualTo(MAX_TOKENS);
                }
            }
            // enough outputs to validate; how many random walks close depends on the vocabulary's opening and
            // closing tokens (the bundled one ends 12 of 25 "recursive" outputs, at 400 tokens as at 600)
            assertThat(ended).as("%s: outputs that ended", name).isGreaterThan(SEEDS / 3);
        }
    }

    private static Output generate(Grammar grammar, TokenVocabulary vocabulary, int eos, int seed) {
        TokenConstraint constraint = grammar.newConstraint();
        Sampler sampler = new Sampler(new SamplingParams(1.0, 0, 1.0, 0, 0, OptionalLong.of(seed)), constraint);
        SplittableRandom weights = new SplittableRandom(seed * 31L + 7);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int step = 1; step <= MAX_TOKENS; step++) {
            float[] logits = new float[vocabulary.size()];
            for (int i = 0; i < logits.length; i++) {
                logits[i] = (float) (weights.nextGaussian() * 3);
            }
            int token = sampler.next(logits);
            if (token != eos) {
                bytes.writeBytes(vocabulary.bytes(token));
            }
            if (sampler.constraintComplete()) {
                return new Output(bytes.toString(StandardCharsets.UTF_8), step, true);
            }
        }
        return new Output(bytes.toString(StandardCharsets.UTF_8), MAX_TOKENS, false);
    }

    private record Output(String text, int tokens, boolean ended) {
    }
}
