package dev.kvshare.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import dev.kvshare.testsupport.TestModels;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link DecoderModel#extendRows} against each row prefilled alone: rows with pasts of different lengths (none,
 * 3 and 10 tokens, so the batch's pasts are left-padded) run 9 prompt tokens each in passes of at most 4 (the
 * prefill chunk), then their last prompt token with logits; then a decode step on each row's extended cache.
 * The logits of both must be those of the row alone within fp32 batching noise (1e-4, what {@link BatchProbe}
 * accepts for fp32), with the same argmax; and every native tensor of the passes is freed.
 */
class BatchedPrefillTest {

    private static final double TOLERANCE = 1e-4;
    private static final int[] PAST_LENGTHS = {0, 3, 10};
    private static final int CHUNK = 9;

    static Stream<String> models() {
        return Stream.of(TestModels.GPT2, TestModels.LLAMA, TestModels.BUNDLED);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void rowsPrefilledTogetherGetTheLogitsOfEachAlone(String name) throws Exception {
        Path directory = name.equals(TestModels.BUNDLED) ? BundledModel.extract() : TestModels.reference(name);
        try (ServedModel served = TestModels.load(directory, 4)) {
            DecoderModel model = served.decoder();
            long liveBefore = model.liveTensors().count();
            int rows = PAST_LENGTHS.length;
            int vocab = Math.min(1000, model.io().vocabSize());
            List<KvCache> pasts = new ArrayList<>();
            int[] chunks = new int[rows * CHUNK];
            int[] lastTokens = new int[rows];
            for (int r = 0; r < rows; r++) {
                int row = r;
                int[] prompt = new int[PAST_LENGTHS[r]];
                Arrays.setAll(prompt, i -> (i * 31 + row * 7 + 3) % vocab);
                pasts.add(prompt.length == 0 ? model.emptyCache() : model.extend(prompt, model.emptyCache()));
                for (int i = 0; i < CHUNK; i++) {
                    chunks[r * CHUNK + i] = (i * 17 + row * 11 + 5) % vocab;
                }
                lastTokens[r] = (row * 13 + 1) % vocab;
            }
            List<KvCache> extended = model.extendRows(chunks, pasts, null);
            List<KvCache> whole;
            float[][] batchedFirst = new float[rows][model.io().vocabSize()];
            try (Logits logits = model.newLogits(rows)) {
                whole = model.extendRows(lastTokens, extended, logits);
                for (int r = 0; r < rows; r++) {
                    logits.copyRow(r, batchedFirst[r]);
                }
            }
            double worst = 0;
            try (Logits alone = model.newLogits()) {
                for (int r = 0; r < rows; r++) {
                    assertThat(extended.get(r).length()).isEqualTo(PAST_LENGTHS[r] + CHUNK);
                    assertThat(whole.get(r).length()).isEqualTo(PAST_LENGTHS[r] + CHUNK + 1);
                    try (KvCache extendedAlone = model.extend(Arrays.copyOfRange(chunks, r * CHUNK, (r + 1) * CHUNK),
                            pasts.get(r));
                         KvCache wholeAlone = model.step(lastTokens[r], extendedAlone, alone)) {
                        float[] firstAlone = alone.values().clone();
                        worst = Math.max(worst, compare(firstAlone, batchedFirst[r]));
                        model.step(2, wholeAlone, alone).close();
                        float[] nextAlone = alone.values().clone();
                        model.step(2, whole.get(r), alone).close();
                        worst = Math.max(worst, compare(nextAlone, alone.values()));
                    }
                }
            }
            assertThat(worst).as("max |Δlogit| of rows prefilled together against each alone")
                    .isLessThanOrEqualTo(TOLERANCE);
            Stream.of(pasts, extended, whole).flatMap(List::stream).forEach(KvCache::close);
            assertThat(model.liveTensors().count()).as("native tensors after the passes").isEqualTo(liveBefore);
        }
    }

    private static double compare(float[] alone, float[] batched) {
        assertThat(Logits.argmax(batched)).as("argmax").isEqualTo(Logits.argmax(alone));
        return BatchProbe.maxAbsDifference(alone, batched);
    }
}
