package dev.kvshare.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import dev.kvshare.testsupport.Http;
import dev.kvshare.testsupport.Instance;
import tools.jackson.databind.JsonNode;

/**
 * Suite 5: concurrent streaming clients over real HTTP, with one sequence per pass ({@code max-batch-size=1})
 * against batched passes ({@code 8} and {@code 16}), on the bundled model and on the Qwen2.5-0.5B shape when
 * models/bench has it. One instance per batch size, all started up front; every level runs on each of them
 * in turn (interleaved). Every client sends its requests one after another and reads the event stream line
 * by line, timing each content chunk on the client side.
 */
final class ConcurrencySuite implements Suite {

    private static final int[] LEVELS = {1, 4, 16, 32};
    private static final int[] BATCH_SIZES = {1, 8, 16};
    private static final String[] TOPICS = {
        "Where is my order %d? The tracking page has not changed for three days.",
        "How do I return the shoes from order %d? They are one size too small.",
        "My package for order %d arrived damaged. Can I get a replacement?",
        "I was charged twice for order %d. What should I do?",
        "Can I change the delivery address of order %d before it ships?",
        "How long does a refund for order %d take to reach my card?",
        "The discount code was not applied to order %d. Can you fix it?",
        "Order %d is missing one item. Who do I contact?",
    };

    /**
     * One request as the client saw it; {@code error} is null on success, "429", or another failure's kind.
     *
     * @param gapsMs the times between consecutive content chunks (inter-token latency as the client sees it)
     */
    record Outcome(double ttftMs, double totalMs, int tokens, List<Double> gapsMs, String error,
                           String detail) {

        static Outcome failed(String error, String detail) {
            return new Outcome(Double.NaN, Double.NaN, 0, List.of(), error, detail);
        }
    }

    /** What one (batch size, level) gathered over all rounds. */
    private static final class Level {
        final List<Outcome> outcomes = new ArrayList<>();
        double wallSeconds;
    }

    /** A model to measure and how long its streams are. */
    private record Subject(String label, String path, int maxTokens, int rounds, int requestsPerClient) {
    }

    @Override
    public void run(BenchContext context, Report report) throws Exception {
        List<Subject> subjects = new ArrayList<>();
        subjects.add(context.quick() ? new Subject("bundled", null, 32, 1, 1) : new Subject("bundled", null, 64, 2, 1));
        Path qwen = context.benchModel("qwen2.5-0.5b");
        if (Files.isDirectory(qwen) && !context.quick()) {
            // One round, 32 tokens: a one-row pass of the 0.5B shape takes 0.1-0.25 s on 2 shared cores.
            subjects.add(new Subject("Qwen2.5-0.5B shape", qwen.toString(), 32, 1, 1));
        }
        report.section("Concurrent streaming clients and continuous batching (suite 5)", """
                %s concurrent clients over real HTTP (java.net.http, HTTP/1.1), each against three instances of the
                same model that differ only in `kvshare.generation.max-batch-size`: %s. `max-concurrent` is the
                batch size but at least 4 (the default), so with `max-batch-size=1` at most 4 sequences generate at
                once, each with its own passes, as before batching; `max-queued` is 64, so no level is refused.
                Every client sends its requests one after another to `/v1/chat/completions` with `"stream": true`, a
                short support question of its own, `"ignore_eos": true` (every request generates exactly
                `max_tokens`), temperature 0.7 with a per-request seed, and `stream_options.include_usage`.
                Per request, on the client: TTFT = until the first chunk with non-empty `delta.content`; ITL = the
                gaps between consecutive content chunks; tokens = the usage chunk's `completion_tokens`. Levels run
                interleaved: each level on every instance in turn (the instance order reversed from level to level
                and round to round), after a warm-up of 1 and 4 clients on each instance (not counted).
                Aggregate tokens/s = all tokens of a level / its summed wall time; *vs batch 1* divides by the
                `max-batch-size=1` figure at the same level. With few requests per level, p99 is close to the
                slowest request. Errors: HTTP 429 counted apart from every other failure (other status, connection
                error, an error event, a stream without `[DONE]` or usage); none are expected.
                """.formatted(join(LEVELS), join(BATCH_SIZES)));
        for (Subject subject : subjects) {
            measure(subject, report);
        }
    }

    private void measure(Subject subject, Report report) throws Exception {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
        Map<Integer, Map<Integer, Level>> levels = new LinkedHashMap<>();
        Map<Integer, Instance> instances = new LinkedHashMap<>();
        try {
            for (int batch : BATCH_SIZES) {
                Map<String, Object> properties = new HashMap<>(Map.of("logging.level.root", "warn",
                        "kvshare.generation.max-batch-size", batch,
                        "kvshare.generation.max-concurrent", Math.max(4, batch),
                        "kvshare.generation.max-queued", 64));
                if (subject.path() != null) {
                    properties.put("kvshare.model.path", subject.path());
                }
                instances.put(batch, Instance.start(properties));
                Map<Integer, Level> perLevel = new LinkedHashMap<>();
                for (int clients : LEVELS) {
                    perLevel.put(clients, new Level());
                }
                levels.put(batch, perLevel);
            }
            for (Instance instance : instances.values()) {
                URI uri = chatUri(instance);
                // Warm-up: the JIT, the generation pool's threads and the connection pool (results dropped).
                runLevel(client, uri, 1, 1, subject.maxTokens(), -1);
                runLevel(client, uri, 4, 1, subject.maxTokens(), -1);
            }
            int turn = 0;
            for (int round = 0; round < subject.rounds(); round++) {
                for (int i = 0; i < LEVELS.length; i++) {
                    int clients = LEVELS[round % 2 == 0 ? i : LEVELS.length - 1 - i];
                    for (int b = 0; b < BATCH_SIZES.length; b++) {
                        int batch = BATCH_SIZES[turn % 2 == 0 ? b : BATCH_SIZES.length - 1 - b];
                        Level level = levels.get(batch).get(clients);
                        long start = System.nanoTime();
                        level.outcomes.addAll(runLevel(client, chatUri(instances.get(batch)), clients,
                                subject.requestsPerClient(), subject.maxTokens(), round));
                        level.wallSeconds += (System.nanoTime() - start) / 1e9;
                    }
                    turn++;
                }
            }
        } finally {
            instances.values().forEach(Instance::close);
        }
        report(subject, levels, report);
    }

    private static URI chatUri(Instance instance) {
        return URI.create(instance.http().baseUrl() + "/v1/chat/completions");
    }

    private void report(Subject subject, Map<Integer, Map<Integer, Level>> levels, Report report)
            throws IOException {
        List<List<String>> rows = new ArrayList<>();
        Map<String, String> firstErrors = new TreeMap<>();
        Map<String, double[][]> rateSeries = new LinkedHashMap<>();
        Map<String, double[][]> ttftSeries = new LinkedHashMap<>();
        Map<Integer, Map<Integer, double[]>> figures = new LinkedHashMap<>();
        for (int batch : BATCH_SIZES) {
            double[] xs = new double[LEVELS.length];
            double[] rates = new double[LEVELS.length];
            double[] ttfts = new double[LEVELS.length];
            int index = 0;
            for (int clients : LEVELS) {
                Level level = levels.get(batch).get(clients);
                List<Outcome> ok = level.outcomes.stream().filter(o -> o.error == null).toList();
                long tooMany = level.outcomes.stream().filter(o -> "429".equals(o.error)).count();
                long other = level.outcomes.size() - ok.size() - tooMany;
                level.outcomes.stream().filter(o -> o.error != null)
                        .forEach(o -> firstErrors.putIfAbsent(o.error, o.detail));
                double rate = ok.stream().mapToInt(Outcome::tokens).sum() / level.wallSeconds;
                List<Double> ttft = ok.stream().map(Outcome::ttftMs).toList();
                List<Double> gaps = ok.stream().flatMap(o -> o.gapsMs().stream()).toList();
                double[] measured = {rate, Report.percentile(ttft, 0.5), Report.percentile(ttft, 0.99),
                        Report.percentile(gaps, 0.5), Report.percentile(gaps, 0.99)};
                figures.computeIfAbsent(batch, b -> new LinkedHashMap<>()).put(clients, measured);
                double baseline = figures.get(BATCH_SIZES[0]).get(clients)[0];
                rows.add(List.of(String.valueOf(batch), String.valueOf(clients),
                        String.valueOf(level.outcomes.size()), Report.f(rate, 1), Report.f(rate / baseline, 2),
                        Report.f(measured[1], 0), Report.f(measured[2], 0), Report.f(measured[3], 1),
                        Report.f(measured[4], 1), String.valueOf(tooMany), String.valueOf(other)));
                xs[index] = clients;
                rates[index] = rate;
                ttfts[index] = measured[2];
                index++;
            }
            rateSeries.put("max-batch-size " + batch, new double[][] {xs, rates});
            ttftSeries.put("max-batch-size " + batch, new double[][] {xs, ttfts});
        }
        String name = subject.path() == null ? "bundled" : "qwen";
        report.paragraph("**" + subject.label() + "**, `max_tokens` " + subject.maxTokens() + ", "
                + subject.rounds() + " round(s) of " + subject.requestsPerClient() + " request(s) per client:");
        report.table("concurrency-" + name, List.of("max-batch-size", "clients", "requests", "aggregate tok/s",
                "vs batch 1", "TTFT p50 ms", "TTFT p99 ms", "ITL p50 ms", "ITL p99 ms", "HTTP 429", "other errors"),
                rows);
        if (!firstErrors.isEmpty()) {
            StringBuilder errors = new StringBuilder("First error of each kind:");
            firstErrors.forEach((kind, detail) -> errors.append("\n- ").append(kind).append(": ").append(detail));
            report.paragraph(errors.toString());
        }
        report.plot("concurrency-" + name + "-throughput", subject.label() + ": aggregate tokens/s vs clients",
                "clients", "tokens/s", rateSeries, false);
        report.plot("concurrency-" + name + "-ttft", subject.label() + ": TTFT p99 vs clients", "clients", "ms",
                ttftSeries, false);
        double[] one16 = figures.get(1).get(16);
        double[] one1 = figures.get(1).get(1);
        int best = BATCH_SIZES[BATCH_SIZES.length - 1];
        report.headline(("Continuous batching, %s: at 16 clients max-batch-size 8 gives %s× and 16 gives %s× the "
                + "tokens/s of max-batch-size 1 (%s tok/s); TTFT p99 at 16 clients %s ms (batch %d) vs %s ms "
                + "(batch 1); one client's ITL p50 %s ms (batch %d) vs %s ms (batch 1)").formatted(subject.label(),
                Report.f(figures.get(8).get(16)[0] / one16[0], 2), Report.f(figures.get(best).get(16)[0] / one16[0], 2),
                Report.f(one16[0], 1), Report.f(figures.get(best).get(16)[2], 0), best, Report.f(one16[2], 0),
                Report.f(figures.get(best).get(1)[3], 1), best, Report.f(one1[3], 1)));
    }

    /** {@code clients} clients, each sending {@code requests} streaming requests in sequence; all start together. */
    private static List<Outcome> runLevel(HttpClient http, URI uri, int clients, int requests, int maxTokens,
                                          int round) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<List<Outcome>>> futures = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                int clientId = c;
                futures.add(pool.submit(() -> {
                    go.await();
                    List<Outcome> outcomes = new ArrayList<>();
                    for (int r = 0; r < requests; r++) {
                        long seed = 1_000_000L * (round + 2) + 1_000L * clientId + r;
                        outcomes.add(stream(http, uri, body(clientId, maxTokens, seed)));
                    }
                    return outcomes;
                }));
            }
            go.countDown();
            List<Outcome> all = new ArrayList<>();
            for (Future<List<Outcome>> future : futures) {
                all.addAll(future.get());
            }
            return all;
        } finally {
            pool.shutdownNow();
        }
    }

    private static String body(int clientId, int maxTokens, long seed) {
        String question = TOPICS[clientId % TOPICS.length].formatted(48_100 + clientId);
        return """
                {"messages": [{"role": "user", "content": %s}], "stream": true,
                 "stream_options": {"include_usage": true}, "max_tokens": %d, "ignore_eos": true,
                 "temperature": 0.7, "seed": %d}""".formatted(Http.JSON.writeValueAsString(question), maxTokens, seed);
    }

    /** One streaming request, read line by line as the server sends it (also the noisy-neighbours suite's). */
    static Outcome stream(HttpClient http, URI uri, String body) {
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(3))
                .header("Content-Type", "application/json").header("Accept", "text/event-stream")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        long start = System.nanoTime();
        HttpResponse<Stream<String>> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofLines());
        } catch (IOException e) {
            return Outcome.failed("connection", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Outcome.failed("interrupted", e.toString());
        }
        try (Stream<String> lines = response.body()) {
            if (response.statusCode() == 429) {
                return Outcome.failed("429", "HTTP 429: " + String.join(" ", lines.toList()));
            }
            if (response.statusCode() != 200) {
                return Outcome.failed("HTTP " + response.statusCode(), String.join(" ", lines.toList()));
            }
            double ttft = Double.NaN;
            List<Double> gaps = new ArrayList<>();
            long lastChunk = 0;
            int chunks = 0;
            int tokens = -1;
            boolean done = false;
            for (Iterator<String> it = lines.iterator(); it.hasNext(); ) {
                String line = it.next();
                if (!line.startsWith("data: ")) {
                    continue;
                }
                String data = line.substring("data: ".length());
                if (data.equals("[DONE]")) {
                    done = true;
                    continue;
                }
                JsonNode event = Http.JSON.readTree(data);
                if (event.has("error")) {
                    return Outcome.failed("error event", data);
                }
                String content = event.path("choices").path(0).path("delta").path("content").asString("");
                if (!content.isEmpty()) {
                    long now = System.nanoTime();
                    if (chunks++ == 0) {
                        ttft = (now - start) / 1e6;
                    } else {
                        gaps.add((now - lastChunk) / 1e6);
                    }
                    lastChunk = now;
                }
                JsonNode usage = event.get("usage");
                if (usage != null && !usage.isNull()) {
                    tokens = usage.path("completion_tokens").asInt();
                }
            }
            double total = (System.nanoTime() - start) / 1e6;
            if (!done || tokens < 0 || chunks == 0) {
                return Outcome.failed("incomplete stream", "done=" + done + " usage=" + (tokens >= 0)
                        + " content chunks=" + chunks);
            }
            return new Outcome(ttft, total, tokens, gaps, null, null);
        } catch (RuntimeException e) {
            return Outcome.failed("read error", e.toString());
        }
    }

    private static String join(int[] values) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < values.length; i++) {
            text.append(i == 0 ? "" : i == values.length - 1 ? " and " : ", ").append(values[i]);
        }
        return text.toString();
    }

}
