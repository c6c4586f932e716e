package dev.kvshare.bench;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import dev.kvshare.soak.ReplicaProcess;
import dev.kvshare.soak.TricklingClient;
import dev.kvshare.testsupport.Http;
import dev.kvshare.testsupport.Instance;

/**
 * Suite 8: what bad neighbours do to normal clients. Two normal streaming clients measure TTFT and
 * inter-token gaps on the client side alone, beside a stalled reader (a connection with a tiny receive buffer
 * pipelining long streams and never reading), beside a hog (one tenant's 40 long streams at once), and beside
 * 200 connections trickling a request body ({@link TricklingClient}), on one instance of the bundled model with the
 * default limits, then again with {@code max-running-per-client=3}; each instance runs as deployed, in a JVM of
 * its own ({@link DeployedJvm}), so that the clients' threads and garbage are not the service's.
 */
final class NoisyNeighboursSuite implements Suite {

    private static final int NORMAL_CLIENTS = 2;
    /**
     * Each normal client's requests per phase: 2 x 50 first tokens, so that a phase's TTFT p99 is its
     * second-slowest first token rather than its slowest (a p99 over 10 samples is their maximum).
     */
    private static final int REQUESTS = 50;
    private static final int HOG_STREAMS = 40;
    private static final int SLOW_BODIES = 200;
    private static final String HOG_KEY = "key-hog";
    /**
     * The service's niceness against its clients' 0: deployed, it has its cores to itself (the chart requests
     * 2 CPUs) and its clients run elsewhere; here they share the machine's 2 cores, so its threads come first.
     */
    private static final int SERVICE_NICE = -5;
    private static final String NORMAL = """
            {"messages": [{"role": "user", "content": "Where is my order 48100?"}], "stream": true,
             "stream_options": {"include_usage": true}, "max_tokens": %d, "ignore_eos": true, "temperature": 0}""";
    private static final String LONG = """
            {"messages": [{"role": "user", "content": "Tell me everything."}], "stream": true,
             "max_tokens": %d, "ignore_eos": true}""";

    /** What the normal clients saw in one phase, and the decode passes the service ran meanwhile. */
    private record Phase(List<Double> ttftMs, List<Double> gapsMs, int failures, Passes passes) {
    }

    /**
     * Decode passes counted by the service's metrics: how many, their rows and their seconds, in all; and the
     * batch's churn: repacks (a sequence joined or left the batch) and their seconds, and sequences preempted
     * for another client. The rows a pass carries do not depend on the machine's load, unlike the latencies; a
     * phase's mean pass time is an average over hundreds of passes, steadier than a p99.
     */
    private record Passes(double count, double rows, double seconds, double repacks, double repackSeconds,
                          double preempted) {

        static Passes of(Http service) {
            // one scrape: passes run between two
            Instance.Scrape scrape = new Instance.Scrape(service.get("/actuator/prometheus").body());
            return new Passes(scrape.value("kvshare_batch_size_count"), scrape.value("kvshare_batch_size_sum"),
                    scrape.value("kvshare_batch_pass_duration_seconds_sum"),
                    scrape.value("kvshare_batch_repack_duration_seconds_count"),
                    scrape.value("kvshare_batch_repack_duration_seconds_sum"),
                    scrape.value("kvshare_batch_parked_total", "reason=\"preempted\""));
        }

        Passes since(Passes before) {
            return new Passes(count - before.count, rows - before.rows, seconds - before.seconds,
                    repacks - before.repacks, repackSeconds - before.repackSeconds, preempted - before.preempted);
        }

        double rowsPerPass() {
            return rows / count;
        }

        double msPerPass() {
            return 1000 * seconds / count;
        }

        double msPerRepack() {
            return repacks == 0 ? 0 : 1000 * repackSeconds / repacks;
        }
    }

    @Override
    public void run(BenchContext context, Report report) throws Exception {
        int requests = context.quick() ? 2 : REQUESTS;
        int normalTokens = 64;
        Duration slowBodyDrip = Duration.ofSeconds(context.quick() ? 2 : 5);
        report.section("Noisy neighbours (suite 8)", """
                %d normal clients, each sending %d streaming chat requests one after another (%d tokens,
                `ignore_eos`), timed on the client side as in suite 5 (TTFT until the first content chunk, ITL the
                gaps between content chunks), in four phases on the same instance, which runs as deployed: in a JVM
                of its own with the Helm chart's options (`javaToolOptions`, and `-XX:MaxRAM` at the container's
                memory limit), at niceness %d against the clients' 0 (the test JVM: load generators and normal
                clients alike), since deployed it has its cores to itself: **alone**; beside a **stalled
                reader** (one connection, receive buffer 1 KiB, 6 pipelined 2,000-token streams, never read: it is
                cancelled after `slow-client-timeout`, 10 s by default, then the next pipelined stream stalls);
                beside a **hog** (one tenant's %d streams of 300 tokens sent at once and read, from a client of its
                own, each sent again as it ends, a refused one a second later, until the phase is over); beside **%d slow
                bodies** (raw connections that send a chat request's headers, then its 1,000-byte body at a byte
                every %d s: each holds no worker thread and is answered 408 and closed after
                `request-read-timeout`, 30 s by default, which the suite waits for and counts). The bundled model,
                defaults otherwise (`max-concurrent` 4, `max-batch-size` 4, `max-queued` 32, so the hog runs 4 and
                queues 8, the rest 429), then a second instance with `kvshare.limits.max-running-per-client=3`.
                Ratios are against the alone phase on the same instance; target ≤ 1.5x. A phase's p99 is over its
                %d first tokens (TTFT) and its gaps (ITL). The machine is shared (2
                cores, other builds running): ratios of one run, not absolute figures. Rows per pass and the mean
                pass time come from the service's metrics (`kvshare_batch_size`, `kvshare_batch_pass_duration`)
                over each phase: the rows do not depend on the machine's load. So do the batch's repacks (a
                sequence joined or left it: every stream waits while its KV is copied; `kvshare_batch_repack`)
                with their mean time, and the sequences preempted for another client (`kvshare_batch_parked`).
                """.formatted(NORMAL_CLIENTS, requests, normalTokens, SERVICE_NICE, HOG_STREAMS, SLOW_BODIES, slowBodyDrip.toSeconds(),
                NORMAL_CLIENTS * requests));
        Path workDir = context.output().resolve("noisy-neighbours");
        List<List<String>> rows = new ArrayList<>();
        List<String> slowBodyTimeouts = new ArrayList<>();
        for (Map.Entry<String, Integer> variant : Map.of("defaults", 0, "max-running-per-client=3", 3).entrySet()
                .stream().sorted(Map.Entry.comparingByValue()).toList()) {
            Map<String, Object> properties = new LinkedHashMap<>(Map.of("logging.level.root", "warn",
                    "kvshare.prompt-cache.tenants[" + HOG_KEY + "]", "hog",
                    "kvshare.prompt-cache.tenants[key-normal]", "normal",
                    "kvshare.limits.max-running-per-client", variant.getValue()));
            Files.createDirectories(workDir);
            try (ReplicaProcess replica = ReplicaProcess.startDeployed(workDir, properties, DeployedJvm.options(),
                    SERVICE_NICE)) {
                Http service = replica.http();
                URI uri = URI.create(service.baseUrl() + "/v1/chat/completions");
                HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                // A phase's worth first: on a cold JIT the alone phase's slowest first tokens all fell among its
                // first ~35, which flattered every other phase's ratio to it.
                normals(service, http, uri, requests, normalTokens);
                Phase alone = normals(service, http, uri, requests, normalTokens);
                Phase stalled;
                try (Socket socket = stall(uri)) {
                    Thread.sleep(2_000); // its writes block once the socket buffers are full
                    stalled = normals(service, http, uri, requests, normalTokens);
                }
                AtomicBoolean hogging = new AtomicBoolean(true);
                CompletableFuture<Void> hog = hog(HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build(),
                        uri, hogging);
                Thread.sleep(1_000);
                Phase hogged = normals(service, http, uri, requests, normalTokens);
                hogging.set(false);
                hog.join(); // its streams under way end before the next phase
                ExecutorService slowBodies = Executors.newFixedThreadPool(SLOW_BODIES);
                Phase trickled;
                int answered408 = 0;
                try {
                    List<Future<TricklingClient.Ending>> endings = new ArrayList<>();
                    for (int i = 0; i < SLOW_BODIES; i++) {
                        endings.add(slowBodies.submit(() -> TricklingClient.trickle(uri.getPort(),
                                TricklingClient.Kind.SLOW_BODY, slowBodyDrip, Duration.ofSeconds(90))));
                    }
                    Thread.sleep(1_000); // every connection has sent its headers
                    trickled = normals(service, http, uri, requests, normalTokens);
                    for (Future<TricklingClient.Ending> ending : endings) {
                        answered408 += ending.get().timedOut408() ? 1 : 0;
                    }
                } finally {
                    slowBodies.shutdown();
                }
                for (Map.Entry<String, Phase> phase : Map.of("alone", alone, "stalled reader", stalled, "40-stream hog",
                        hogged, SLOW_BODIES + " slow bodies", trickled).entrySet().stream()
                        .sorted(Map.Entry.comparingByKey()).toList()) {
                    rows.add(row(variant.getKey(), phase.getKey(), phase.getValue(), alone));
                }
                slowBodyTimeouts.add(variant.getKey() + ": " + answered408 + " of " + SLOW_BODIES);
            }
        }
        report.table("noisy-neighbours", List.of("limits", "beside", "TTFT p50 ms", "TTFT p99 ms", "ITL p99 ms",
                "TTFT p99 ratio", "ITL p99 ratio", "failed", "rows per pass", "pass ms", "pass ms ratio", "repacks", "repack ms", "preempted"), rows);
        report.paragraph("Slow bodies answered 408 and closed by the server: " + String.join("; ", slowBodyTimeouts)
                + ".");
    }

    private static List<String> row(String variant, String phase, Phase measured, Phase alone) {
        double ttft99 = percentile(measured.ttftMs(), 0.99);
        double itl99 = percentile(measured.gapsMs(), 0.99);
        return List.of(variant, phase, Report.f(percentile(measured.ttftMs(), 0.5), 1), Report.f(ttft99, 1),
                Report.f(itl99, 1), Report.f(ttft99 / percentile(alone.ttftMs(), 0.99), 2) + "x",
                Report.f(itl99 / percentile(alone.gapsMs(), 0.99), 2) + "x", String.valueOf(measured.failures()),
                Report.f(measured.passes().rowsPerPass(), 2), Report.f(measured.passes().msPerPass(), 2),
                Report.f(measured.passes().msPerPass() / alone.passes().msPerPass(), 2) + "x",
                Report.f(measured.passes().repacks(), 0), Report.f(measured.passes().msPerRepack(), 2),
                Report.f(measured.passes().preempted(), 0));
    }

    private static Phase normals(Http service, HttpClient http, URI uri, int requests, int tokens)
            throws Exception {
        Passes before = Passes.of(service);
        ExecutorService clients = Executors.newFixedThreadPool(NORMAL_CLIENTS);
        try {
            List<Future<List<ConcurrencySuite.Outcome>>> runs = new ArrayList<>();
            for (int c = 0; c < NORMAL_CLIENTS; c++) {
                runs.add(clients.submit(() -> {
                    List<ConcurrencySuite.Outcome> outcomes = new ArrayList<>();
                    for (int r = 0; r < requests; r++) {
                        outcomes.add(ConcurrencySuite.stream(http, uri, NORMAL.formatted(tokens)));
                    }
                    return outcomes;
                }));
            }
            List<Double> ttft = new ArrayList<>();
            List<Double> gaps = new ArrayList<>();
            int failures = 0;
            for (Future<List<ConcurrencySuite.Outcome>> run : runs) {
                for (ConcurrencySuite.Outcome outcome : run.get()) {
                    if (outcome.error() != null) {
                        failures++;
                    } else {
                        ttft.add(outcome.ttftMs());
                        gaps.addAll(outcome.gapsMs());
                    }
                }
            }
            return new Phase(ttft, gaps, failures, Passes.of(service).since(before));
        } finally {
            clients.shutdown();
        }
    }

    /** A connection that pipelines long streams and never reads; closing it ends the stall. */
    private static Socket stall(URI uri) throws Exception {
        Socket socket = new Socket();
        socket.setReceiveBufferSize(1024);
        socket.connect(new InetSocketAddress(uri.getHost(), uri.getPort()));
        OutputStream out = socket.getOutputStream();
        byte[] body = LONG.formatted(2000).getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < 6; i++) {
            out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body);
        }
        out.flush();
        return socket;
    }

    /**
     * One tenant's {@value #HOG_STREAMS} long streams, sent at once and each sent again when it ends (a second
     * later when it was refused, as a client backing off from 429 would), until {@code hogging} is false: the
     * hog presses as hard through a long phase as at its start. {@code http} is the hog's own client, so that
     * reading its streams does not share the normal clients' connection threads.
     */
    private static CompletableFuture<Void> hog(HttpClient http, URI uri, AtomicBoolean hogging) {
        List<CompletableFuture<Void>> streams = new ArrayList<>();
        for (int i = 0; i < HOG_STREAMS; i++) {
            streams.add(hogStream(http, uri, hogging));
        }
        return CompletableFuture.allOf(streams.toArray(CompletableFuture[]::new));
    }

    private static CompletableFuture<Void> hogStream(HttpClient http, URI uri, AtomicBoolean hogging) {
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(5))
                .header("Content-Type", "application/json").header("Authorization", "Bearer " + HOG_KEY)
                .POST(HttpRequest.BodyPublishers.ofString(LONG.formatted(300))).build();
        return http.sendAsync(request, HttpResponse.BodyHandlers.discarding()).thenCompose(response -> {
            if (!hogging.get()) {
                return CompletableFuture.completedFuture(null);
            }
            Executor again = response.statusCode() == 429
                    ? CompletableFuture.delayedExecutor(1, TimeUnit.SECONDS) : Runnable::run;
            return CompletableFuture.runAsync(() -> { }, again).thenCompose(sent -> hogStream(http, uri, hogging));
        });
    }

    private static double percentile(List<Double> values, double p) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p * sorted.size()) - 1));
    }
}
