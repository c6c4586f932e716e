package dev.kvshare.bench;

import static dev.kvshare.bench.Report.f;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import dev.kvshare.constrain.ConstraintProperties;
import dev.kvshare.constrain.Grammar;
import dev.kvshare.constrain.Grammars;
import dev.kvshare.constrain.SchemaGuarantee;
import dev.kvshare.constrain.TokenConstraint;
import dev.kvshare.constrain.TokenIndex;
import dev.kvshare.constrain.TokenVocabulary;
import dev.kvshare.generation.GenerationRequest;
import dev.kvshare.generation.GenerationService;
import dev.kvshare.generation.Sampler;
import dev.kvshare.generation.SamplingParams;
import dev.kvshare.model.ServedModel;
import dev.kvshare.testsupport.TestModels;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Suite 7: what constrained decoding costs per decode step on a vocabulary of Qwen2.5's size (151,936 rows), next
 * to the decode step itself, and what compiling a schema costs. The mask's cost does not depend on the logits'
 * values, so random logits stand in for the model's; selection is the production sampler's.
 */
final class ConstrainSuite implements Suite {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final int EOS = 151_643;
    private static final JsonNode LOOKUP_ORDER = JSON.readTree("""
            {"type": "object", "properties": {"orderId": {"type": "string"}}, "required": ["orderId"],
             "additionalProperties": false}""");

    @Override
    public void run(BenchContext context, Report report) throws Exception {
        report.section("Constrained decoding: mask cost per decode step (suite 7)", """
                Each step of a constrained sequence masks the logits to the tokens that keep the JSON valid
                (`TokenConstraint.mask`, one walk of the vocabulary's byte trie with the schema's matcher, cached
                per matcher state) and advances the matcher by the chosen token (`accept`). Measured here per
                step over whole generations: the first generation of a schema starts with an empty mask cache
                (cold), later ones reuse it (warm). The vocabulary is a synthetic byte-level one of Qwen2.5's
                size (see `SyntheticVocabulary`; the real Qwen tokenizer is not in this repository); strings close
                at 48 characters as in the HTTP tests. The decode step is measured in the same run: the
                Qwen2.5-0.5B-shape model when models/bench has it, else the bundled model. Goal: mask under
                10 % of the Qwen-shape decode step.""");
        TokenVocabulary vocabulary = SyntheticVocabulary.qwenSized();
        long start = System.nanoTime();
        TokenIndex index = TokenIndex.of(vocabulary, Set.of(EOS));
        double indexMs = (System.nanoTime() - start) / 1e6;
        report.paragraph("Token index for " + SyntheticVocabulary.ROWS + " rows: " + index.trie().nodes()
                + " trie nodes, built in " + f(indexMs, 0) + " ms (once per model, at start-up).");

        Step step = decodeStep(context);
        ConstraintProperties properties = new ConstraintProperties(16, 1000, 1000,
                org.springframework.util.unit.DataSize.ofMegabytes(256), 48);
        Map<String, CompiledGrammar> grammars = new LinkedHashMap<>();
        for (String name : List.of("order", "enums", "arrays", "anyof", "recursive", "free")) {
            JsonNode schema = SchemaGuarantee.schema(name);
            grammars.put(name, compile(() -> new Grammars(index, properties).schema(schema), context));
        }
        grammars.put("tool call (lookupOrder)", compile(() -> new Grammars(index, properties).toolCall(
                List.of(new Grammars.ToolSchema("lookupOrder", LOOKUP_ORDER)), "arguments"), context));

        List<List<String>> rows = new ArrayList<>();
        double worstWarm = 0;
        for (Map.Entry<String, CompiledGrammar> entry : grammars.entrySet()) {
            Costs costs = measure(entry.getValue().grammar(), context.repetitions(8, 3));
            worstWarm = Math.max(worstWarm, costs.warmMs());
            rows.add(List.of(entry.getKey(), f(entry.getValue().compileMs(), 3), Integer.toString(costs.steps()),
                    f(costs.coldMs(), 3), f(costs.warmMs(), 3), f(costs.warmP99Ms(), 3), f(costs.samplerMs(), 3),
                    f(step.msPerToken(), 2), f(costs.warmMs() / step.msPerToken() * 100, 2) + " %"));
        }
        report.table("constrain", List.of("schema", "compile ms", "steps", "mask ms/step cold", "mask ms/step warm",
                "warm p99 ms", "sampler ms/step (unconstrained)", "decode ms/step (" + step.label() + ")",
                "warm mask / decode step"), rows);
        report.headline("Constrained decoding, " + SyntheticVocabulary.ROWS + "-token vocabulary: mask "
                + f(worstWarm, 3) + " ms/step warm in the worst schema, " + f(worstWarm / step.msPerToken() * 100, 2)
                + " % of a " + step.label() + " decode step (" + f(step.msPerToken(), 2) + " ms)");
    }

    private record CompiledGrammar(Grammar grammar, double compileMs) {
    }

    /** Compiles with a fresh cache each time; the median of several compilations. */
    private static CompiledGrammar compile(java.util.function.Supplier<Grammar> compiler, BenchContext context) {
        List<Double> times = new ArrayList<>();
        Grammar grammar = null;
        for (int i = 0; i < context.repetitions(21, 5); i++) {
            long start = System.nanoTime();
            grammar = compiler.get();
            times.add((System.nanoTime() - start) / 1e6);
        }
        return new CompiledGrammar(grammar, Report.median(times));
    }

    private record Costs(int steps, double coldMs, double warmMs, double warmP99Ms, double samplerMs) {
    }

    private static Costs measure(Grammar grammar, int generations) {
        SplittableRandom random = new SplittableRandom(7);
        float[][] pool = new float[8][SyntheticVocabulary.ROWS];
        for (float[] logits : pool) {
            for (int i = 0; i < logits.length; i++) {
                logits[i] = (float) (random.nextGaussian() * 3);
            }
        }
        float[] work = new float[SyntheticVocabulary.ROWS];
        List<Double> cold = new ArrayList<>();
        List<Double> warm = new ArrayList<>();
        List<Double> sampler = new ArrayList<>();
        for (int generation = 0; generation < generations; generation++) {
            TokenConstraint constraint = grammar.newConstraint();
            Sampler select = new Sampler(new SamplingParams(1.0, 0, 1.0, 0, 0, OptionalLong.of(generation)));
            for (int step = 0; step < 256 && !constraint.complete(); step++) {
                System.arraycopy(pool[step % pool.length], 0, work, 0, work.length);
                long start = System.nanoTime();
                constraint.mask(work);
                long masked = System.nanoTime();
                int token = select.next(work);
                long selected = System.nanoTime();
                constraint.accept(token);
                long end = System.nanoTime();
                (generation == 0 ? cold : warm).add(((masked - start) + (end - selected)) / 1e6);
                sampler.add((selected - masked) / 1e6);
            }
        }
        return new Costs(cold.size() + warm.size(), mean(cold), mean(warm), percentile(warm, 0.99), mean(sampler));
    }

    private record Step(String label, double msPerToken) {
    }

    /** A greedy decode step through the production loop, on the Qwen-shape model when it is there. */
    private static Step decodeStep(BenchContext context) throws Exception {
        Path qwen = context.benchModel("qwen2.5-0.5b");
        boolean big = Files.isDirectory(qwen);
        int tokens = big ? 32 : 256;
        try (ServedModel model = TestModels.load(big ? qwen.toString() : TestModels.BUNDLED)) {
            GenerationService service = LoneSequenceService.of(model, tokens, "bench");
            int[] prompt = IntStream.range(0, 8).map(i -> i + 3).toArray();
            GenerationRequest request = new GenerationRequest(prompt, tokens, SamplingParams.GREEDY, List.of(), true,
                    "");
            List<Double> perToken = new ArrayList<>();
            for (int rep = -1; rep < context.repetitions(3, 1); rep++) {
                long start = System.nanoTime();
                service.submit(request, chunk -> { }).join();
                if (rep >= 0) {
                    perToken.add((System.nanoTime() - start) / 1e6 / tokens);
                }
            }
            return new Step(big ? "Qwen2.5-0.5B shape" : "bundled model", Report.median(perToken));
        }
    }

    private static double mean(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).average().orElse(0);
    }

    private static double percentile(List<Double> values, double p) {
        if (values.isEmpty()) {
            return 0;
        }
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
    }
}
