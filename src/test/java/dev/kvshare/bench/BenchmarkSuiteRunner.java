package dev.kvshare.bench;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

import ai.onnxruntime.OrtEnvironment;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Runs every benchmark suite and writes docs/benchmarks.md. Started by {@code tools/bench/run.sh [--quick]},
 * which first makes the benchmark-shape models; directly: {@code ./mvnw -Pbench test
 * -Dtest=BenchmarkSuiteRunner [-Dbench.quick=true]
 * [-Dbench.suites=kv,overhead,prompt-cache,conversation,codec,concurrency,constrain,noisy-neighbours,prefill-interference]}.
 */
@Tag("benchmark")
class BenchmarkSuiteRunner {

    static final String COMMAND = "tools/bench/run.sh";
    private static final String ALL_SUITES = "kv,overhead,prompt-cache,conversation,codec,concurrency,batch-pass,constrain,"
            + "noisy-neighbours,prefill-interference";

    @Test
    void runAllSuites() throws Exception {
        boolean quick = Boolean.getBoolean("bench.quick");
        Path root = Path.of("").toAbsolutePath();
        BenchContext context = new BenchContext(quick, root.resolve("models/bench"),
                root.resolve("target/benchmarks"), root.resolve("docs"));
        Report report = new Report(context);
        String suites = System.getProperty("bench.suites", ALL_SUITES);
        for (String name : suites.split(",")) {
            suite(name.trim()).run(context, report);
        }
        // A run of some suites only must not replace the whole report: it goes beside the raw output.
        Path target = suites.equals(ALL_SUITES) ? context.docs().resolve("benchmarks.md")
                : context.output().resolve("benchmarks-" + suites.replace(',', '-') + ".md");
        Files.createDirectories(target.getParent());
        Files.writeString(target, report.render(machine(), suites.equals(ALL_SUITES)
                ? COMMAND + (quick ? " --quick" : "")
                : "tools/bench/run.sh" + (quick ? " --quick" : "") + " --suites " + suites));
    }

    private static Suite suite(String name) {
        return switch (name) {
            case "kv" -> new KvCacheSuite();
            case "overhead" -> new JavaOverheadSuite();
            case "prompt-cache" -> new PromptCacheSuite();
            case "conversation" -> new ConversationSuite();
            case "codec" -> new CodecSuite();
            case "concurrency" -> new ConcurrencySuite();
            case "batch-pass" -> new BatchPassSuite();
            case "constrain" -> new ConstrainSuite();
            case "noisy-neighbours" -> new NoisyNeighboursSuite();
            case "prefill-interference" -> new PrefillInterferenceSuite();
            default -> throw new IllegalArgumentException("Unknown suite " + name);
        };
    }

    private static String machine() {
        Runtime runtime = Runtime.getRuntime();
        return "| | |\n|---|---|\n"
                + "| CPU cores | " + runtime.availableProcessors() + " |\n"
                + "| memory (JVM max heap) | " + runtime.maxMemory() / (1 << 20) + " MiB |\n"
                + "| OS | " + System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch") + " |\n"
                + "| JDK | " + System.getProperty("java.vm.name") + " " + System.getProperty("java.version") + " |\n"
                + "| ONNX Runtime | " + OrtEnvironment.getEnvironment().getVersion() + " (" + String.join(", ",
                OrtEnvironment.getAvailableProviders().stream().map(Enum::name).toList()) + " available) |\n"
                + "| execution provider | CPU (no GPU on this machine) |\n"
                + "| JVM uptime at the end | " + ManagementFactory.getRuntimeMXBean().getUptime() / 1000 + " s |";
    }
}
