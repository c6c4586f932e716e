package dev.kvshare.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

import dev.kvshare.model.BatchedKv;
import dev.kvshare.model.DecoderModel;
import dev.kvshare.model.KvCache;
import dev.kvshare.model.KvRow;
import dev.kvshare.model.Logits;
import dev.kvshare.model.ServedModel;
import dev.kvshare.testsupport.TestModels;

/**
 * Suite 6: what one batched decode pass costs by rows and padding, and what a repack costs: the profile
 * behind suite 5's batching figures, without HTTP, sampling or streaming. Rows are copies of one prefilled
 * prompt (no padding) or alternate a long and a short one (the short rows padded to the long).
 */
final class BatchPassSuite implements Suite {

    private static final int[] ROWS = {1, 4, 8, 16, 32};
    private static final int LONG = 128;
    private static final int SHORT = 32;

    @Override
    public void run(BenchContext context, Report report) throws Exception {
        report.section("Batched pass profile (suite 6)", """
                `DecoderModel.stepBatch` timed directly: rows of %d tokens each (no padding) and rows alternating
                %d and %d tokens (the short ones padded to %d columns), for %s rows; *ms/token* = pass time / rows,
                *vs 1 row* = tokens per second against a one-row pass; *repack ms* = `DecoderModel.pack` of those
                rows into a new batch (the copy made when a sequence joins or leaves). Medians of interleaved
                repetitions.""".formatted(LONG, LONG, SHORT, LONG, ROWS.length + " batch sizes from 1 to 32"));
        List<String[]> models = new ArrayList<>();
        models.add(new String[] {"bundled", TestModels.BUNDLED});
        Path qwen = context.benchModel("qwen2.5-0.5b");
        if (Files.isDirectory(qwen)) {
            models.add(new String[] {"Qwen2.5-0.5B shape", qwen.toString()});
        }
        List<List<String>> rows = new ArrayList<>();
        for (String[] model : models) {
            try (ServedModel served = TestModels.load(model[1])) {
                rows.addAll(measure(model[0], served.decoder(), context.repetitions(5, 2)));
            }
        }
        report.table("batch-pass", List.of("model", "rows", "padding", "pass ms", "ms/token", "vs 1 row",
                "repack ms"), rows);
    }

    private static List<List<String>> measure(String label, DecoderModel model, int repetitions) {
        List<List<String>> rows = new ArrayList<>();
        int[] prompt = IntStream.range(0, LONG).map(i -> (i * 31 + 7) % 1000).toArray();
        try (KvCache longer = model.extend(prompt, model.emptyCache());
             KvCache shorter = model.extend(Arrays.copyOf(prompt, SHORT), model.emptyCache())) {
            double single = Double.NaN;
            for (boolean padded : new boolean[] {false, true}) {
                for (int count : ROWS) {
                    List<KvRow> sources = new ArrayList<>();
                    for (int r = 0; r < count; r++) {
                        sources.add(KvRow.of(padded && r % 2 == 1 ? shorter : longer));
                    }
                    List<Double> pass = new ArrayList<>();
                    List<Double> repack = new ArrayList<>();
                    double padding;
                    try (Logits logits = model.newLogits(count)) {
                        long start = System.nanoTime();
                        BatchedKv batch = model.pack(sources);
                        repack.add((System.nanoTime() - start) / 1e6);
                        padding = batch.paddingShare();
                        int[] tokens = new int[count];
                        for (int i = -1; i < repetitions; i++) { // the first pass warms up, uncounted
                            start = System.nanoTime();
                            BatchedKv next = model.stepBatch(tokens, batch, logits);
                            double ms = (System.nanoTime() - start) / 1e6;
                            batch.close();
                            batch = next;
                            if (i >= 0) {
                                pass.add(ms);
                                start = System.nanoTime();
                                model.pack(sources).close();
                                repack.add((System.nanoTime() - start) / 1e6);
                            }
                        }
                        batch.close();
                    }
                    double passMs = Report.median(pass);
                    if (count == 1 && !padded) {
                        single = passMs;
                    }
                    rows.add(List.of(label, String.valueOf(count), Report.f(padding, 2), Report.f(passMs, 1),
                            Report.f(passMs / count, 2), Report.f(single * count / passMs, 2),
                            Report.f(Report.median(repack), 1)));
                }
            }
        }
        return rows;
    }
}
