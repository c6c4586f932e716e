package dev.kvshare.bench;

import static dev.kvshare.bench.Report.f;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import dev.kvshare.generation.GenerationRequest;
import dev.kvshare.generation.GenerationService;
import dev.kvshare.generation.SamplingParams;
import dev.kvshare.model.ServedModel;
import dev.kvshare.testsupport.TestModels;
import tools.jackson.databind.json.JsonMapper;

/**
 * Suite 2: the share of each decode step spent outside {@code OrtSession.run} — tensor handling, sampling,
 * incremental detokenizing, stop-string checks, metrics, and serializing every chunk as an SSE event would.
 */
final class JavaOverheadSuite implements Suite {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Override
    public void run(BenchContext context, Report report) throws Exception {
        report.section("2. Java overhead per decode step", """
                Whole generations run through `GenerationService` (the production decode loop: sampling with
                temperature/top-p, incremental detokenizing, stop strings, metrics), each text chunk serialized to
                JSON as the SSE writer does, with the time inside ONNX Runtime's `session.run` counted by the
                engine. Overhead = wall time − session.run time, over all steps of the generation (the short
                prompt's prefill included). Goal: under 5 %. Greedy decoding isolates the fixed costs (tensors,
                detokenizing, streaming); sampling (temperature 0.8, top-p 0.95) adds the sampler's passes over
                the vocabulary. On the random-weight Qwen shape the distribution is nearly flat, so the top-p
                nucleus spans most of its 151,936 tokens and must be sorted: a worst case real models, whose
                nucleus is a handful of tokens, do not hit.""");
        List<String> models = new ArrayList<>(List.of(TestModels.BUNDLED));
        Path qwen = context.benchModel("qwen2.5-0.5b");
        if (Files.isDirectory(qwen) && !context.quick()) {
            models.add(qwen.toString());
        }
        List<List<String>> rows = new ArrayList<>();
        for (String name : models) {
            boolean big = name.contains("/");
            int tokens = big ? 48 : (context.quick() ? 256 : 512);
            String label = big ? "Qwen2.5-0.5B shape" : "bundled";
            rows.add(measure(name, label, "greedy", SamplingParams.GREEDY, tokens, context.repetitions(3, 2), report));
            rows.add(measure(name, label, "top-p sampling", new SamplingParams(0.8, 0, 0.95, 0, 0,
                    java.util.OptionalLong.of(1)), tokens, context.repetitions(3, 2), report));
        }
        report.table("java-overhead", List.of("model", "decoding", "tokens", "wall ms/token", "session.run ms/token",
                "outside ms/token", "overhead share"), rows);
    }

    private static List<String> measure(String name, String label, String decoding, SamplingParams sampling,
                                        int tokens, int repetitions, Report report) throws Exception {
        try (ServedModel model = TestModels.load(name)) {
            GenerationService service = LoneSequenceService.of(model, tokens, label);
            int[] prompt = IntStream.range(0, 8).map(i -> i + 3).toArray();
            GenerationRequest request = new GenerationRequest(prompt, tokens, sampling, List.of("\n\n\n"), true, "");
            List<Double> wall = new ArrayList<>();
            List<Double> run = new ArrayList<>();
            for (int rep = -1; rep < repetitions; rep++) {
                long runBefore = model.decoder().sessionRunNanos();
                long start = System.nanoTime();
                service.submit(request, chunk -> JSON.writeValue(OutputStream.nullOutputStream(), chunk)).join();
                long elapsed = System.nanoTime() - start;
                if (rep >= 0) {
                    wall.add(elapsed / 1e6 / tokens);
                    run.add((model.decoder().sessionRunNanos() - runBefore) / 1e6 / tokens);
                }
            }
            double wallMs = Report.median(wall);
            double runMs = Report.median(run);
            double share = (wallMs - runMs) / wallMs;
            report.headline("Java overhead per decode step, " + label + ", " + decoding + ": " + f(share * 100, 1)
                    + " % of " + f(wallMs, 2) + " ms/token outside session.run");
            return List.of(label, decoding, Integer.toString(tokens), f(wallMs, 3), f(runMs, 3), f(wallMs - runMs, 3),
                    f(share * 100, 1) + " %");
        }
    }
}
