package dev.kvshare.generation;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import dev.kvshare.model.BatchedKv;
import dev.kvshare.model.DecoderModel;
import dev.kvshare.model.KvCache;
import dev.kvshare.model.KvRow;
import dev.kvshare.model.Logits;
import dev.kvshare.model.ServedModel;
import dev.kvshare.testsupport.TestModels;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every quantized layout {@code tools/model/quantize.py} writes, made from the reference exports (commands in
 * {@code src/test/resources/models/README.md}): it loads, decodes greedily with and without its KV cache, and
 * batches rows of different lengths. Its distance from the export it was made from is printed, not asserted:
 * greedy agreement under teacher forcing (the reference's own greedy continuation fed to both) and the largest
 * |Δlogit| on those contexts. docs/models.md tabulates the figures. What is asserted holds for a sound export
 * whatever its precision: the cached path's logits stay within the export's own quantization noise of the
 * recomputing path's (the ground truth: twice its distance from the reference, at least fp32's 1e-4; dynamic
 * int8 and fp16 legitimately differ between a one-token pass and a whole-sequence pass), the start-up probe lets
 * it batch, and on these exports a batched pass gives each row the ids it picks alone.
 */
class QuantizedExportsTest {

    private static final int[][] PROMPTS = {{0, 0, 0, 52}, {0, 0, 195, 731}, {5, 17, 42, 99, 7, 3, 250, 31},
            {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}};
    private static final int TOKENS = 24;

    static Stream<Arguments> layouts() {
        return Stream.of(
                Arguments.of(TestModels.GPT2, "past.onnx", "model_q4.onnx"),
                Arguments.of(TestModels.GPT2, "past.onnx", "model_q4_asymmetric.onnx"),
                Arguments.of(TestModels.GPT2, "past.onnx", "model_q4_accuracy4.onnx"),
                Arguments.of(TestModels.GPT2, "past.onnx", "model_q4_last_logits.onnx"),
                Arguments.of(TestModels.GPT2, "past.onnx", "model_int8.onnx"),
                Arguments.of(TestModels.GPT2, "past.onnx", "model_int8_per_channel.onnx"),
                Arguments.of(TestModels.GPT2, "past.onnx", "model_fp16.onnx"),
                Arguments.of(TestModels.GPT2, "past.onnx", "model_q4f16.onnx"),
                Arguments.of(TestModels.LLAMA, "model.onnx", "model_q4f16.onnx"));
    }

    @ParameterizedTest(name = "{0} {2}")
    @MethodSource("layouts")
    void loadsDecodesCachedAndBatchedAndIsMeasuredAgainstItsReference(String name, String reference, String file)
            throws Exception {
        try (ServedModel exact = TestModels.load(name, reference); ServedModel quantized = TestModels.load(name, file)) {
            DecoderModel model = quantized.decoder();
            Distance fromReference = Distance.NONE;
            Distance recomputedFromReference = Distance.NONE;
            Distance cachedFromRecomputed = Distance.NONE;
            for (int[] prompt : PROMPTS) {
                int[] continuation;
                try (var decoder = new CachedDecoder(exact.decoder())) {
                    continuation = DecoderEquivalenceTest.greedy(decoder, prompt, TOKENS);
                }
                List<float[]> expected = teacherForced(new CachedDecoder(exact.decoder()), prompt, continuation);
                List<float[]> cached = teacherForced(new CachedDecoder(model), prompt, continuation);
                List<float[]> recomputed = teacherForced(new RecomputingDecoder(model), prompt, continuation);
                fromReference = fromReference.plus(Distance.between(expected, cached));
                recomputedFromReference = recomputedFromReference.plus(Distance.between(expected, recomputed));
                cachedFromRecomputed = cachedFromRecomputed.plus(Distance.between(recomputed, cached));
            }
            System.out.printf("%s %s vs %s: greedy agreement %d/%d (%.1f %%), max |Δlogit| %.4f (logits up to %.2f); "
                            + "cached vs recomputed max |Δlogit| %.2g, greedy agreement %d/%d%n", name, file, reference,
                    fromReference.agreeing(), fromReference.steps(), 100.0 * fromReference.agreeing()
                            / fromReference.steps(), fromReference.worst(), fromReference.largestLogit(),
                    cachedFromRecomputed.worst(), cachedFromRecomputed.agreeing(), cachedFromRecomputed.steps());
            assertThat(cachedFromRecomputed.worst()).as("cached vs recomputed, within the export's own noise")
                    .isLessThanOrEqualTo(Math.max(1e-4, 2 * recomputedFromReference.worst()));
            assertThat(model.batchesRowsOfDifferentLengths()).as("the start-up batching probe accepts it").isTrue();
            assertBatchedRowsPickWhatEachPicksAlone(model);
        }
    }

    /** Logits at each position of prompt + continuation, the continuation fed whatever the model would pick. */
    private static List<float[]> teacherForced(SequenceDecoder decoder, int[] prompt, int[] continuation)
            throws Exception {
        try (decoder) {
            List<float[]> logits = new ArrayList<>();
            logits.add(decoder.start(prompt).clone());
            for (int i = 0; i + 1 < continuation.length; i++) {
                logits.add(decoder.next(continuation[i]).clone());
            }
            return logits;
        }
    }

    /** Rows of lengths 4, 8 and 16 advanced together for 8 passes pick the ids each picks alone. */
    private static void assertBatchedRowsPickWhatEachPicksAlone(DecoderModel model) {
        int rows = PROMPTS.length - 1;
        int[][] alone = new int[rows][];
        for (int r = 0; r < rows; r++) {
            try (var decoder = new CachedDecoder(model)) {
                alone[r] = DecoderEquivalenceTest.greedy(decoder, PROMPTS[r + 1], 8);
            }
        }
        List<KvCache> prefills = new ArrayList<>();
        List<KvRow> sources = new ArrayList<>();
        int[] tokens = new int[rows];
        int[][] batched = new int[rows][8];
        try (Logits first = model.newLogits()) {
            for (int r = 0; r < rows; r++) {
                int[] prompt = PROMPTS[r + 1];
                KvCache prefix = model.extend(Arrays.copyOf(prompt, prompt.length - 1), model.emptyCache());
                prefills.add(prefix);
                prefills.add(model.step(prompt[prompt.length - 1], prefix, first));
                sources.add(KvRow.of(prefills.get(prefills.size() - 1)));
                tokens[r] = Logits.argmax(first.values());
            }
            BatchedKv batch = model.pack(sources);
            try (Logits logits = model.newLogits(rows)) {
                float[] row = new float[model.io().vocabSize()];
                for (int pass = 0; pass < 8; pass++) {
                    for (int r = 0; r < rows; r++) {
                        batched[r][pass] = tokens[r];
                    }
                    if (pass + 1 == 8) {
                        break;
                    }
                    BatchedKv next = model.stepBatch(tokens, batch, logits);
                    batch.close();
                    batch = next;
                    for (int r = 0; r < rows; r++) {
                        tokens[r] = Logits.argmax(logits.copyRow(r, row));
                    }
                }
            } finally {
                batch.close();
            }
        } finally {
            prefills.forEach(KvCache::close);
        }
        for (int r = 0; r < rows; r++) {
            assertThat(batched[r]).as("row %d batched", r).containsExactly(alone[r]);
        }
    }

    /** Steps compared, how many picked the same argmax, the largest |Δlogit|, and the largest |logit| seen. */
    private record Distance(int steps, int agreeing, double worst, double largestLogit) {

        static final Distance NONE = new Distance(0, 0, 0, 0);

        static Distance between(List<float[]> expected, List<float[]> actual) {
            int agreeing = 0;
            double worst = 0;
            double largest = 0;
            for (int step = 0; step < expected.size(); step++) {
                float[] e = expected.get(step);
                float[] a = actual.get(step);
                agreeing += Logits.argmax(e) == Logits.argmax(a) ? 1 : 0;
                for (int v = 0; v < e.length; v++) {
                    worst = Math.max(worst, Math.abs(e[v] - a[v]));
                    largest = Math.max(largest, Math.abs(e[v]));
                }
            }
            return new Distance(expected.size(), agreeing, worst, largest);
        }

        Distance plus(Distance other) {
            return new Distance(steps + other.steps, agreeing + other.agreeing, Math.max(worst, other.worst),
                    Math.max(largestLogit, other.largestLogit));
        }
    }
}
