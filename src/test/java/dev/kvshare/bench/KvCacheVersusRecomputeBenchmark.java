package dev.kvshare.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import dev.kvshare.generation.CachedDecoder;
import dev.kvshare.generation.RecomputingDecoder;
import dev.kvshare.generation.Sampler;
import dev.kvshare.generation.SequenceDecoder;
import dev.kvshare.model.ServedModel;
import dev.kvshare.testsupport.TestModels;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Generating N tokens with the KV cache versus recomputing the whole sequence every step, on the same model
 * and prompt, interleaved, several repetitions; prints medians, the ratio and decode tokens/s.
 * {@code ./mvnw -Pbench test -Dtest=KvCacheVersusRecomputeBenchmark} ({@code -Dbench.model=NAME} of a
 * reference export or {@code kvshare-support-tiny}; {@code -Dbench.tokens}, {@code -Dbench.repetitions}).
 */
@Tag("benchmark")
class KvCacheVersusRecomputeBenchmark {

    @Test
    void cachedVersusRecompute() throws Exception {
        String name = System.getProperty("bench.model", TestModels.BUNDLED);
        int tokens = Integer.getInteger("bench.tokens", 256);
        int repetitions = Integer.getInteger("bench.repetitions", 3);
        int[] prompt = IntStream.range(0, 32).map(i -> (i * 17 + 5) % 900).toArray();
        try (ServedModel model = TestModels.load(name)) {
            List<Double> cached = new ArrayList<>();
            List<Double> recomputed = new ArrayList<>();
            for (int rep = -1; rep < repetitions; rep++) {
                double c = seconds(new CachedDecoder(model.decoder()), prompt, tokens);
                double r = seconds(new RecomputingDecoder(model.decoder()), prompt, tokens);
                if (rep >= 0) {
                    cached.add(c);
                    recomputed.add(r);
                }
            }
            double c = median(cached);
            double r = median(recomputed);
            System.out.printf("%nKV cache vs recompute: %s, prompt 32 tokens, %d generated, %d repetitions (%s)%n",
                    name, tokens, repetitions, model.executionProvider());
            System.out.printf("%-12s %10s %12s%n", "mode", "median s", "tokens/s");
            System.out.printf("%-12s %10.3f %12.1f%n", "kv cache", c, tokens / c);
            System.out.printf("%-12s %10.3f %12.1f%n", "recompute", r, tokens / r);
            System.out.printf("recompute / kv cache = %.1fx%n", r / c);
        }
    }

    private static double seconds(SequenceDecoder decoder, int[] prompt, int tokens) {
        try (decoder) {
            long start = System.nanoTime();
            float[] logits = decoder.start(prompt);
            for (int i = 0; i < tokens - 1; i++) {
                logits = decoder.next(Sampler.argmax(logits));
            }
            return (System.nanoTime() - start) / 1e9;
        }
    }

    private static double median(List<Double> values) {
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return sorted[sorted.length / 2];
    }
}
