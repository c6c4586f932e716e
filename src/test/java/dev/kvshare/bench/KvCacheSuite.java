package dev.kvshare.bench;

import static dev.kvshare.bench.Report.f;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import dev.kvshare.generation.CachedDecoder;
import dev.kvshare.generation.RecomputingDecoder;
import dev.kvshare.generation.SequenceDecoder;
import dev.kvshare.model.Logits;
import dev.kvshare.model.ServedModel;
import dev.kvshare.testsupport.TestModels;

/**
 * Suite 1: generating N tokens with the KV cache versus recomputing the whole sequence at every step, same
 * model and prompt, greedy, interleaved repetitions; totals at several N and per-token latency by position.
 */
final class KvCacheSuite implements Suite {

    /** One model's configuration: prompt length, tokens generated per mode, repetitions. */
    private record Case(String label, String model, int promptTokens, int cachedTokens, int recomputedTokens,
                        int repetitions) {
    }

    @Override
    public void run(BenchContext context, Report report) throws Exception {
        report.section("1. KV cache vs recompute", """
                The same model and prompt generate N tokens greedily two ways: with the KV cache (prefill once,
                then one token per step, each step's present KV fed back as the next past) and recomputing the
                whole sequence from an empty past at every step (`RecomputingDecoder`, what decoding costs without
                a cache). Totals are cumulative times to the N-th token (medians over the repetitions); the plot
                shows each token's latency against its position: flat with the cache, growing without it.
                Public reference point: Hugging Face `generate` on gpt2-medium, 1,000 tokens, ~21.7 s with the
                cache vs ~107 s without (about 5x).""");
        List<Case> cases = new ArrayList<>();
        cases.add(context.quick() ? new Case("bundled (kvshare-support-tiny)", TestModels.BUNDLED, 1, 256, 256, 1)
                : new Case("bundled (kvshare-support-tiny)", TestModels.BUNDLED, 1, 1024, 1024, 2));
        Path qwen = context.benchModel("qwen2.5-0.5b");
        if (Files.isDirectory(qwen) && !context.quick()) {
            // One repetition: recomputing 256 tokens of a 0.5B model costs minutes on 2 CPU cores.
            cases.add(new Case("Qwen2.5-0.5B shape (random weights)", qwen.toString(), 16, 256, 256, 1));
        }
        List<List<String>> rows = new ArrayList<>();
        for (Case c : cases) {
            rows.addAll(measure(c, report));
        }
        report.table("kv-cache-vs-recompute", List.of("model", "N", "KV cache s", "recompute s", "recompute / cache",
                "cache ms/token", "recompute ms/token"), rows);
        if (cases.size() == 1 && !context.quick()) {
            report.paragraph("The Qwen2.5-0.5B-shape model was not found in models/bench (tools/model/make-bench-models.sh).");
        }
    }

    private List<List<String>> measure(Case c, Report report) throws Exception {
        int[] prompt = IntStream.range(0, c.promptTokens()).map(i -> (i * 31 + 7) % 1000).toArray();
        List<double[]> cachedRuns = new ArrayList<>();
        List<double[]> recomputedRuns = new ArrayList<>();
        try (ServedModel model = TestModels.load(c.model())) {
            timeSteps(new CachedDecoder(model.decoder()), prompt, Math.min(8, c.cachedTokens())); // warm-up
            for (int rep = 0; rep < c.repetitions(); rep++) {
                cachedRuns.add(timeSteps(new CachedDecoder(model.decoder()), prompt, c.cachedTokens()));
                recomputedRuns.add(timeSteps(new RecomputingDecoder(model.decoder()), prompt, c.recomputedTokens()));
            }
        }
        double[] cached = medianPerStep(cachedRuns);
        double[] recomputed = medianPerStep(recomputedRuns);
        Map<String, double[][]> series = new LinkedHashMap<>();
        series.put("KV cache", positions(cached));
        series.put("recompute", positions(recomputed));
        report.plot("kv-" + (c.model().contains("/") ? "qwen" : "bundled"), "Per-token latency by position, " + c.label(),
                "generated token", "ms", series, true);
        List<List<String>> rows = new ArrayList<>();
        for (int n = 64; n <= Math.min(cached.length, recomputed.length); n *= 2) {
            double cacheSeconds = sum(cached, n) / 1000;
            double recomputeSeconds = sum(recomputed, n) / 1000;
            rows.add(List.of(c.label(), Integer.toString(n), f(cacheSeconds, 2), f(recomputeSeconds, 2),
                    f(recomputeSeconds / cacheSeconds, 1) + "x", f(cacheSeconds * 1000 / n, 1),
                    f(recomputeSeconds * 1000 / n, 1)));
        }
        int n = Math.min(cached.length, recomputed.length);
        report.headline("KV cache vs recompute, " + c.label() + ", " + n + " tokens: "
                + f(sum(recomputed, n) / sum(cached, n), 1) + "x faster with the cache ("
                + f(sum(cached, n) / 1000, 1) + " s vs " + f(sum(recomputed, n) / 1000, 1) + " s)");
        return rows;
    }

    /** Milliseconds of each step: step 0 is the prompt's prefill plus the first token. */
    private static double[] timeSteps(SequenceDecoder decoder, int[] prompt, int tokens) {
        double[] millis = new double[tokens];
        try (decoder) {
            long start = System.nanoTime();
            float[] logits = decoder.start(prompt);
            millis[0] = (System.nanoTime() - start) / 1e6;
            for (int i = 1; i < tokens; i++) {
                int token = Logits.argmax(logits);
                start = System.nanoTime();
                logits = decoder.next(token);
                millis[i] = (System.nanoTime() - start) / 1e6;
            }
        }
        return millis;
    }

    private static double[] medianPerStep(List<double[]> runs) {
        double[] median = new double[runs.get(0).length];
        for (int i = 0; i < median.length; i++) {
            int step = i;
            median[i] = Report.median(runs.stream().map(run -> run[step]).toList());
        }
        return median;
    }

    private static double[][] positions(double[] millis) {
        double[][] xy = new double[2][millis.length - 1];
        for (int i = 1; i < millis.length; i++) {
            xy[0][i - 1] = i;
            xy[1][i - 1] = millis[i];
        }
        return xy;
    }

    private static double sum(double[] millis, int n) {
        double total = 0;
        for (int i = 0; i < n; i++) {
            total += millis[i];
        }
        return total;
    }
}
