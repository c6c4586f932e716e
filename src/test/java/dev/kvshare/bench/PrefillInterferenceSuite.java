package dev.kvshare.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.IntStream;

import dev.kvshare.generation.CachedPrefixes;
import dev.kvshare.generation.ClientLimits;
import dev.kvshare.generation.GenerationProperties;
import dev.kvshare.generation.GenerationRequest;
import dev.kvshare.generation.GenerationService;
import dev.kvshare.generation.SamplingParams;
import dev.kvshare.generation.SequenceDecoders;
import dev.kvshare.model.ServedModel;
import dev.kvshare.observability.BatchMetrics;
import dev.kvshare.observability.GenerationMetrics;
import dev.kvshare.observability.SequenceObservations;
import dev.kvshare.observability.Spans;
import dev.kvshare.testsupport.TestModels;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * Suite 9: what a long prompt's prefill does to a running stream, and how fast a burst of prompts gets its
 * first tokens, through {@link GenerationService} with the batch scheduler (no HTTP, no prompt cache). A
 * stream generates greedily; once it has emitted {@value #WARM_TOKENS} tokens another client's
 * {@value #LONG_PROMPT}-token prompt arrives (one token asked): the stream's usual inter-token time is the
 * median gap before that prompt came, its worst the longest gap while the prompt prefilled, and its longest gap
 * alone for as long again afterwards is the control (on a loaded machine a thread waits for a core too). Then
 * {@value #BURST} prompts of {@value #BURST_PROMPT} tokens arrive together (one token each), alone.
 *
 * <p>The bundled model by default; {@code -Dbench.prefill-interference.model=DIR} runs a model directory instead
 * ({@code -Dbench.prefill-interference.model-file=model_q4.onnx} picks its export, {@code
 * -Dbench.prefill-interference.threads=N} ONNX Runtime's intra-op threads, 1 by default as for every test model;
 * 0 is one per core), and {@code -Dbench.prefill-interference.repetitions=N} sets the repetitions.
 */
final class PrefillInterferenceSuite implements Suite {

    /** The prefix of this suite's system properties. */
    static final String PROPERTY = "bench.prefill-interference";
    static final int WARM_TOKENS = 64;
    static final int LONG_PROMPT = 2048;
    static final int BURST = 8;
    static final int BURST_PROMPT = 32;
    private static final int STREAM_PROMPT = 16;
    /** The stream's limit: more than it can emit while the long prompt prefills; it is cancelled once that is done. */
    private static final int STREAM_TOKENS = 2900;

    @Override
    public void run(BenchContext context, Report report) throws Exception {
        int repetitions = Integer.getInteger(PROPERTY + ".repetitions", context.repetitions(5, 2));
        String modelDirectory = System.getProperty(PROPERTY + ".model");
        String modelFile = System.getProperty(PROPERTY + ".model-file");
        String modelName = modelDirectory == null ? "bundled"
                : Path.of(modelDirectory).getFileName() + (modelFile == null ? "" : " " + modelFile);
        report.section("Prefill beside running streams (suite 9)", """
                Model: %s. `GenerationService` with the batch scheduler (max-batch-size %d, prefill-tokens-per-step
                %d), greedy, no prompt cache. *Gap*: one stream runs; after %d tokens another client's %d-token prompt
                arrives asking for one token; *usual ms* is the stream's median gap between tokens before it came,
                *longest ms* its longest gap while the prompt prefilled, *ratio* = longest / usual (target: at most 2);
                *p99 ratio* = the 99th percentile of its gaps while the prompt prefilled / usual (robust to a few
                waits for a core on a loaded machine); *control longest ms* its longest gap alone for as long again
                right after (the machine's own noise);
                *long prompt ms* is that prompt's time to its token. *Burst*: %d distinct %d-token prompts arrive
                together, one token each; *all done ms* is when the last one has its token, *median ms* their median
                time to first token. Medians of %d repetitions.""".formatted(modelName, BURST, properties().prefillTokensPerStep(),
                WARM_TOKENS, LONG_PROMPT, BURST, BURST_PROMPT, repetitions));
        List<Double> usual = new ArrayList<>();
        List<Double> longest = new ArrayList<>();
        List<Double> control = new ArrayList<>();
        List<Double> p99 = new ArrayList<>();
        List<Double> ratio = new ArrayList<>();
        List<Double> longPrompt = new ArrayList<>();
        List<Double> allDone = new ArrayList<>();
        List<Double> burstMedian = new ArrayList<>();
        try (ServedModel model = modelDirectory == null ? TestModels.load(TestModels.BUNDLED)
                : TestModels.load(Path.of(modelDirectory), modelFile,
                        Integer.getInteger(PROPERTY + ".threads", 1), 512)) {
            GenerationService service = service(model);
            int vocab = model.decoder().io().vocabSize();
            for (int rep = -1; rep < repetitions; rep++) { // the first repetition warms up, uncounted
                Gap gap = gap(service, vocab, rep);
                double[] burst = burst(service, vocab, rep);
                if (rep >= 0) {
                    usual.add(gap.usualMs());
                    longest.add(gap.longestMs());
                    control.add(gap.controlMs());
                    p99.add(gap.p99Ms() / gap.usualMs());
                    ratio.add(gap.longestMs() / gap.usualMs());
                    longPrompt.add(gap.longPromptMs());
                    allDone.add(burst[0]);
                    burstMedian.add(burst[1]);
                }
            }
        }
        report.headline("Prefill beside a stream, " + modelName + ": while a " + LONG_PROMPT
                + "-token prompt prefilled the stream's longest gap was " + Report.f(Report.median(ratio), 1)
                + "x its usual inter-token time ("
                + Report.f(Report.median(longest), 1) + " ms vs " + Report.f(Report.median(usual), 2) + " ms); "
                + BURST + " prompts of " + BURST_PROMPT + " tokens together: all first tokens in "
                + Report.f(Report.median(allDone), 0) + " ms");
        report.table("prefill-interference", List.of("usual ms", "longest ms", "ratio", "p99 ratio",
                "control longest ms", "long prompt ms", "burst all done ms", "burst median ms"), List.of(List.of(
                Report.f(Report.median(usual), 2), Report.f(Report.median(longest), 1),
                Report.f(Report.median(ratio), 1), Report.f(Report.median(p99), 1), Report.f(Report.median(control), 1),
                Report.f(Report.median(longPrompt), 0), Report.f(Report.median(allDone), 0),
                Report.f(Report.median(burstMedian), 0))));
    }

    private static GenerationProperties properties() {
        return new GenerationProperties(BURST + 1, 32, 1, STREAM_TOKENS, BURST, 256);
    }

    private static GenerationService service(ServedModel model) {
        GenerationProperties properties = properties();
        GenerationMetrics metrics = new GenerationMetrics(new SimpleMeterRegistry(), "bundled");
        return new GenerationService(model, properties, ClientLimits.defaults(), metrics,
                new SequenceObservations(metrics, Spans.NONE, "bundled", null),
                new SequenceDecoders(model, properties, ClientLimits.defaults(), new BatchMetrics(new SimpleMeterRegistry(), "bundled"),
                        CachedPrefixes.NONE));
    }

    private record Gap(double usualMs, double longestMs, double p99Ms, double controlMs, double longPromptMs) {
    }

    /** The stream's token times (one entry per token), the long prompt sent once it has WARM_TOKENS. */
    private static Gap gap(GenerationService service, int vocab, int rep) throws Exception {
        List<Long> tokenTimes = new CopyOnWriteArrayList<>();
        CountDownLatch warm = new CountDownLatch(WARM_TOKENS);
        CompletableFuture<?> stream = service.submit(request(ids(STREAM_PROMPT, vocab, rep), STREAM_TOKENS), "stream",
                chunk -> {
                    long now = System.nanoTime();
                    for (int t = 0; t < chunk.tokenIds().length; t++) {
                        tokenTimes.add(now);
                        warm.countDown();
                    }
                });
        warm.await();
        long sent = System.nanoTime();
        service.submit(request(ids(LONG_PROMPT, vocab, 1000 + rep), 1), "long-prompt", chunk -> { }).join();
        long done = System.nanoTime();
        // The control: the stream alone for as long again, whose longest gap is the machine's own noise.
        long controlEnd = done + (done - sent);
        while ((System.nanoTime() < controlEnd || tokenTimes.size() < WARM_TOKENS * 2) && !stream.isDone()) {
            Thread.sleep(1);
        }
        stream.cancel(true);
        List<Double> before = new ArrayList<>();
        List<Double> during = new ArrayList<>();
        double control = 0;
        for (int i = 1; i < tokenTimes.size(); i++) {
            long previous = tokenTimes.get(i - 1);
            long current = tokenTimes.get(i);
            double gapMs = (current - previous) / 1e6;
            if (current <= sent) {
                before.add(gapMs);
            } else if (previous <= done) {
                during.add(gapMs); // a gap that overlaps the prefill
            } else if (current <= controlEnd) {
                control = Math.max(control, gapMs);
            }
        }
        return new Gap(Report.median(before), Report.percentile(during, 1), Report.percentile(during, 0.99), control,
                (done - sent) / 1e6);
    }

    /** {@code [all done ms, median ms]} of BURST prompts sent together. */
    private static double[] burst(GenerationService service, int vocab, int rep) {
        long start = System.nanoTime();
        List<CompletableFuture<Double>> firsts = new ArrayList<>();
        for (int i = 0; i < BURST; i++) {
            firsts.add(service.submit(request(ids(BURST_PROMPT, vocab, 2000 + rep * BURST + i), 1), "burst-" + i,
                    chunk -> { }).thenApply(result -> (System.nanoTime() - start) / 1e6));
        }
        List<Double> times = firsts.stream().map(CompletableFuture::join).toList();
        return new double[] {times.stream().mapToDouble(Double::doubleValue).max().orElseThrow(), Report.median(times)};
    }

    private static GenerationRequest request(int[] prompt, int maxTokens) {
        return new GenerationRequest(prompt, maxTokens, SamplingParams.GREEDY, List.of(), true, "");
    }

    /** A distinct prompt per seed, of ordinary ids (past the first 300, clear of special tokens). */
    private static int[] ids(int length, int vocab, int seed) {
        return IntStream.range(0, length).map(i -> 300 + Math.floorMod(i * 7919 + seed * 104729, vocab - 300))
                .toArray();
    }
}
