package dev.kvshare.generation;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

import dev.kvshare.model.DecoderModel;
import dev.kvshare.model.KvCache;
import dev.kvshare.model.Logits;
import dev.kvshare.model.ServedModel;
import dev.kvshare.testsupport.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The KV-cached loop against the known-good ids of the reference exports and against full recompute.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DecoderEquivalenceTest {

    private final Map<String, ServedModel> models = new HashMap<>();

    @BeforeAll
    void load() {
        models().forEach(name -> models.put(name, TestModels.load(name)));
    }

    @AfterAll
    void close() throws Exception {
        for (ServedModel model : models.values()) {
            model.close();
        }
    }

    Stream<Arguments> knownGood() {
        return Stream.of(
                Arguments.of(TestModels.GPT2, new int[] {0, 0, 0, 52}, new int[] {204, 204, 204, 204, 204, 204}),
                Arguments.of(TestModels.GPT2, new int[] {0, 0, 195, 731}, new int[] {731, 114, 114, 114, 114, 114}),
                Arguments.of(TestModels.LLAMA, new int[] {0, 0, 0, 52},
                        new int[] {12102, 30463, 4666, 17192, 3266, 18061}),
                Arguments.of(TestModels.LLAMA, new int[] {0, 0, 195, 731},
                        new int[] {29592, 4877, 18112, 22607, 12936, 997}));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("knownGood")
    void cachedAndRecomputedDecodingReproduceTheExportersOwnExpectations(String name, int[] prompt, int[] expected) {
        DecoderModel model = model(name).decoder();
        try (var cached = new CachedDecoder(model); var recomputed = new RecomputingDecoder(model)) {
            assertThat(greedy(cached, prompt, expected.length)).containsExactly(expected);
            assertThat(greedy(recomputed, prompt, expected.length)).containsExactly(expected);
        }
    }

    @ParameterizedTest
    @MethodSource("models")
    void longCachedRunMatchesFullRecomputeToken_for_token(String name) {
        DecoderModel model = model(name).decoder();
        int[] prompt = {0, 5, 17, 42, 99, 7, 3, 250, 31, 8, 64, 12};
        try (var cached = new CachedDecoder(model); var recomputed = new RecomputingDecoder(model)) {
            assertThat(greedy(cached, prompt, 48)).containsExactly(greedy(recomputed, prompt, 48));
        }
    }

    @Test
    void chunkedPrefillGivesTheSameTokensAsOnePass() throws Exception {
        int[] prompt = prompt(37);
        try (ServedModel chunked = TestModels.load(TestModels.reference(TestModels.GPT2), 5);
             var byChunks = new CachedDecoder(chunked.decoder());
             var onePass = new CachedDecoder(model(TestModels.GPT2).decoder())) {
            assertThat(chunked.decoder().continuesWithManyTokens()).isTrue();
            assertThat(greedy(byChunks, prompt, 16)).containsExactly(greedy(onePass, prompt, 16));
        }
    }

    @Test
    void genaiBuilderExportIsDetectedAsOneTokenPerPassAfterAPast() {
        assertThat(model(TestModels.LLAMA).decoder().continuesWithManyTokens()).isFalse();
    }

    @ParameterizedTest
    @MethodSource("models")
    void decodingAfterAnExistingPastMatchesAColdRun(String name) {
        DecoderModel model = model(name).decoder();
        int[] prompt = prompt(29);
        for (int known : new int[] {1, 16, 28}) {
            KvCache past = model.extend(Arrays.copyOf(prompt, known), model.emptyCache());
            try (var resumed = new CachedDecoder(model, past); var cold = new CachedDecoder(model)) {
                assertThat(greedy(resumed, prompt, 12)).as("after %d known tokens", known)
                        .containsExactly(greedy(cold, prompt, 12));
            }
        }
    }

    private static int[] prompt(int length) {
        int[] prompt = new int[length];
        Arrays.setAll(prompt, i -> (i * 31 + 7) % 1000);
        return prompt;
    }

    Stream<String> models() {
        return Stream.of(TestModels.GPT2, TestModels.LLAMA, TestModels.BUNDLED);
    }

    private ServedModel model(String name) {
        return models.get(name);
    }

    static int[] greedy(SequenceDecoder decoder, int[] prompt, int tokens) {
        int[] out = new int[tokens];
        float[] logits = decoder.start(prompt);
        for (int i = 0; i < tokens; i++) {
            out[i] = Logits.argmax(logits);
            if (i + 1 < tokens) {
                logits = decoder.next(out[i]);
            }
        }
        return out;
    }
}
