package dev.kvshare.soak;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import dev.kvshare.KvshareApplication;
import dev.kvshare.testsupport.Http;
import dev.kvshare.testsupport.Pause;
import dev.kvshare.testsupport.TestRedis;

/**
 * A replica in a JVM of its own, as in production: if ONNX Runtime crashes it, the process dies and leaves an
 * {@code hs_err} file, which a replica inside the test's JVM could not survive to report.
 */
public final class ReplicaProcess implements AutoCloseable {

    private static final Path RENICE = Path.of("/usr/bin/renice");
    /**
     * A small heap touched up front, C1 only and the serial collector: a test's replica lives minutes at most,
     * and C2's compiler threads would double the CPU its start-up costs (about 20 CPU-seconds against 10);
     * nothing a test checks depends on them.
     */
    private static final List<String> SHORT_LIVED_JVM = List.of("-Xms256m", "-Xmx256m", "-XX:+AlwaysPreTouch",
            "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");

    private final Process process;
    private final int port;
    private final Http http;
    private final Path log;
    /** The niceness every thread of the JVM gets once it is ready; {@code null} leaves it at its start's. */
    private final Integer niceOnceReady;

    private ReplicaProcess(Process process, int port, Path log, Integer niceOnceReady) {
        this.process = process;
        this.port = port;
        this.http = new Http(port);
        this.log = log;
        this.niceOnceReady = niceOnceReady;
    }

    /**
     * Starts {@code java -cp <this test's class path> KvshareApplication} with {@code properties}, as operators
     * run it, and waits until it is ready.
     *
     * @param properties application properties; {@code logging.level.root} is {@code warn} unless given
     * @param jvmOptions e.g. {@code -Xcheck:jni}
     */
    public static ReplicaProcess start(Path workDir, Map<String, Object> properties, List<String> jvmOptions)
            throws IOException {
        ReplicaProcess replica = launch(workDir, properties, jvmOptions, false);
        replica.awaitReady();
        return replica;
    }

    /**
     * Starts the replica with {@code jvmOptions} alone, none of the short-lived defaults (heap, C1 only, serial
     * collector): a JVM as deployed, for figures meant to hold in production. Once ready, every thread of it gets
     * niceness {@code nice} (negative to put it ahead of the load a test drives against it on the same cores).
     */
    public static ReplicaProcess startDeployed(Path workDir, Map<String, Object> properties, List<String> jvmOptions,
                                               int nice) throws IOException {
        ReplicaProcess replica = launch(workDir, properties, jvmOptions, nice);
        replica.awaitReady();
        return replica;
    }

    /**
     * Starts the JVM without waiting for it to get ready ({@link #awaitReady()}), so that several start at once.
     * The class path goes in an argument file: ONNX Runtime 1.29 crashes at start-up when the command line is
     * longer than a few KB (docs/architecture.md).
     *
     * @param nicedOnceReady under nice 10 once ready ({@link #awaitReady()}): the soak runs for a fixed time beside
     *                       the other integration tests, so its replicas take the CPU those leave rather than slow
     *                       them down; they start at normal priority, since a start starved by the other tests
     *                       would only push the soak's fixed time past their end
     */
    static ReplicaProcess launch(Path workDir, Map<String, Object> properties, List<String> jvmOptions,
                                 boolean nicedOnceReady) throws IOException {
        List<String> options = new ArrayList<>(SHORT_LIVED_JVM);
        options.addAll(jvmOptions);
        return launch(workDir, properties, options, nicedOnceReady ? 10 : null);
    }

    private static ReplicaProcess launch(Path workDir, Map<String, Object> properties, List<String> jvmOptions,
                                         Integer niceOnceReady) throws IOException {
        int port = TestRedis.freePort();
        Path argFile = workDir.resolve("classpath-" + port + ".args");
        Files.writeString(argFile, "-cp \"" + System.getProperty("java.class.path").replace("\\", "\\\\") + "\"");
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:ErrorFile=" + workDir.resolve("hs_err_pid%p.log")));
        command.addAll(jvmOptions);
        command.add("@" + argFile);
        command.add(KvshareApplication.class.getName());
        command.add("--server.port=" + port);
        if (!properties.containsKey("logging.level.root")) {
            command.add("--logging.level.root=warn");
        }
        properties.forEach((key, value) -> command.add("--" + key + "=" + value));
        Path log = workDir.resolve("replica-" + port + ".log");
        Process process = new ProcessBuilder(command).directory(workDir.toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile())
                .start();
        return new ReplicaProcess(process, port, log, niceOnceReady);
    }

    /**
     * Waits until the replica is ready, then renices it if it was launched so; one that never gets
     * ready is stopped, so it cannot outlive the test.
     */
    void awaitReady() {
        try {
            // generous: the soak starts its JVMs while the other integration tests run beside it
            awaitReady(Duration.ofMinutes(5));
        } catch (RuntimeException notReady) {
            close();
            throw notReady;
        }
        if (niceOnceReady != null) {
            renice(niceOnceReady);
        }
    }

    /**
     * {@code nice} for every thread of the JVM: Linux keeps a niceness per thread, and the threads started later
     * inherit it from the (now reniced) threads that start them. A negative one needs root.
     */
    private void renice(int nice) {
        if (!Files.isExecutable(RENICE)) {
            return;
        }
        List<String> command = new ArrayList<>(List.of(RENICE.toString(), "--priority", Integer.toString(nice), "-p"));
        try (Stream<Path> threads = Files.list(Path.of("/proc", Long.toString(process.pid()), "task"))) {
            threads.forEach(thread -> command.add(thread.getFileName().toString()));
            // a thread that ended meanwhile makes renice fail for it alone
            new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start().waitFor();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot renice replica on port " + port, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void awaitReady(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("Replica on port " + port + " exited with " + process.exitValue());
            }
            try {
                if (http.get("/actuator/health/readiness").status() == 200) {
                    return;
                }
            } catch (IllegalStateException notYetListening) {
                // starting
            }
            Pause.sleep(250);
        }
        throw new IllegalStateException("Replica on port " + port + " not ready after " + timeout);
    }

    int port() {
        return port;
    }

    public Http http() {
        return http;
    }

    /** Everything the process wrote to stdout and stderr. */
    public Path log() {
        return log;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** Resident set size in MB, from /proc. */
    long rssMegabytes() {
        try {
            Matcher rss = Pattern.compile("VmRSS:\\s+(\\d+) kB")
                    .matcher(Files.readString(Path.of("/proc", Long.toString(process.pid()), "status")));
            return rss.find() ? Long.parseLong(rss.group(1)) / 1024 : -1;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The sum of a Prometheus series' values whose labels contain {@code label}. */
    double metric(String name, String label) {
        Pattern series = Pattern.compile("(?m)^" + Pattern.quote(name) + "\\{([^}]*)\\} (\\S+)$");
        Matcher matcher = series.matcher(http.get("/actuator/prometheus").body());
        double total = 0;
        while (matcher.find()) {
            if (matcher.group(1).contains(label)) {
                total += Double.parseDouble(matcher.group(2));
            }
        }
        return total;
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

}
