package dev.kvshare.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
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

import dev.kvshare.generation.GenerationProperties;
import dev.kvshare.testsupport.Http;
import dev.kvshare.testsupport.Instance;
import tools.jackson.databind.JsonNode;

/**
 * Suite 5: 1, 4 and 16 concurrent streaming clients over real HTTP against one instance of the bundled
 * model. Every client sends its requests one after another and reads the event stream line by line, timing
 * the first content chunk and the end of the stream on the client side.
 */
final class ConcurrencySuite implements Suite {

    private static final int[] LEVELS = {1, 4, 16};
    private static final int ROUNDS = 2;
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

    /** One request as the client saw it; {@code error} is null on success, "429", or another failure's kind. */
    private record Outcome(double ttftMs, double totalMs, int tokens, int chunks, String error, String detail) {

        static Outcome failed(String error, String detail) {
            return new Outcome(Double.NaN, Double.NaN, 0, 0, error, detail);
        }
    }

    /** What one concurrency level gathered over all rounds. */
    private static final class Level {
        final List<Outcome> outcomes = new ArrayList<>();
        double wallSeconds;
    }

    @Override
    public void run(BenchContext context, Report report) throws Exception {
        int maxTokens = context.quick() ? 32 : 64;
        int perClientPerRound = context.quick() ? 1 : 2;
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
        Map<Integer, Level> levels = new LinkedHashMap<>();
        for (int clients : LEVELS) {
            levels.put(clients, new Level());
        }
        GenerationProperties admission;
        try (Instance instance = Instance.start(Map.of("logging.level.root", "warn"))) {
            admission = instance.bean(GenerationProperties.class);
            URI uri = URI.create(instance.http().baseUrl() + "/v1/chat/completions");
            // Warm-up: the JIT, the generation pool's threads and the connection pool (results dropped).
            runLevel(client, uri, 1, 2, maxTokens, -1);
            runLevel(client, uri, 4, 2, maxTokens, -1);
            for (int round = 0; round < ROUNDS; round++) {
                // Interleaved: every level once per round, the order reversed between rounds.
                for (int i = 0; i < LEVELS.length; i++) {
                    int clients = LEVELS[round % 2 == 0 ? i : LEVELS.length - 1 - i];
                    Level level = levels.get(clients);
                    long start = System.nanoTime();
                    level.outcomes.addAll(runLevel(client, uri, clients, perClientPerRound, maxTokens, round));
                    level.wallSeconds += (System.nanoTime() - start) / 1e9;
                }
            }
        }

        report.section("Concurrent streaming clients (suite 5)", """
                %s concurrent clients over real HTTP (java.net.http, HTTP/1.1) against one instance serving the bundled
                model with the default admission settings, `kvshare.generation.max-concurrent=%d` and `max-queued=%d`:
                at most %d sequences generate at once and the others wait in the queue, so at 16 clients the time to
                first token includes queueing. Every client sends its requests one after another to
                `/v1/chat/completions` with `"stream": true`, a short support question of its own, `max_tokens` %d,
                `"ignore_eos": true` (every request generates exactly that many tokens), temperature 0.7 with a
                per-request seed, and `stream_options.include_usage`; the body is read line by line as it arrives.
                Per request, on the client: TTFT = until the first chunk with non-empty `delta.content` (the role
                chunk does not count), latency = until `[DONE]`, tokens = the usage chunk's `completion_tokens`.
                The levels run interleaved: %d rounds, each running every level once (order reversed between rounds)
                with %d request(s) per client, %d requests per client in all, after warm-up rounds of 1 and 4 clients
                (2 requests each, not counted).
                Aggregate tokens/s = all tokens a level generated / the level's summed wall time (first request sent
                to last stream finished). With few requests per level, p99 is close to the slowest request.
                Errors: HTTP 429 (queue full) is counted apart from every other failure (other status, connection
                error, an error event in the stream, a stream without `[DONE]` or usage). Acceptable: no errors at
                all, or 429s only (load shedding); with these settings 16 clients fit (%d generating + %d queued), so
                429s are not expected either.
                """.formatted(join(LEVELS), admission.maxConcurrent(), admission.maxQueued(),
                admission.maxConcurrent(), maxTokens, ROUNDS, perClientPerRound, ROUNDS * perClientPerRound,
                admission.maxConcurrent(), admission.maxQueued()));

        List<List<String>> rows = new ArrayList<>();
        double singleRate = Double.NaN;
        double[] xs = new double[LEVELS.length];
        double[] rates = new double[LEVELS.length];
        double[] ttfts = new double[LEVELS.length];
        Map<String, String> firstErrors = new TreeMap<>();
        int index = 0;
        for (Map.Entry<Integer, Level> entry : levels.entrySet()) {
            int clients = entry.getKey();
            Level level = entry.getValue();
            List<Outcome> ok = level.outcomes.stream().filter(o -> o.error == null).toList();
            long tooMany = level.outcomes.stream().filter(o -> "429".equals(o.error)).count();
            long other = level.outcomes.size() - ok.size() - tooMany;
            level.outcomes.stream().filter(o -> o.error != null)
                    .forEach(o -> firstErrors.putIfAbsent(o.error, o.detail));
            int tokens = ok.stream().mapToInt(Outcome::tokens).sum();
            double rate = tokens / level.wallSeconds;
            if (clients == 1) {
                singleRate = rate;
            }
            List<Double> ttft = ok.stream().map(Outcome::ttftMs).toList();
            List<Double> latency = ok.stream().map(Outcome::totalMs).toList();
            List<Double> streamRates = ok.stream()
                    .map(o -> (o.tokens - 1) / ((o.totalMs - o.ttftMs) / 1000)).toList();
            rows.add(List.of(String.valueOf(clients), String.valueOf(level.outcomes.size()), String.valueOf(tokens),
                    Report.f(level.wallSeconds, 1), Report.f(rate, 1), Report.f(rate / singleRate, 2),
                    Report.f(Report.percentile(ttft, 0.5), 0), Report.f(Report.percentile(ttft, 0.99), 0),
                    Report.f(Report.percentile(latency, 0.5), 0), Report.f(Report.percentile(latency, 0.99), 0),
                    Report.f(Report.percentile(streamRates, 0.5), 1), String.valueOf(tooMany), String.valueOf(other)));
            xs[index] = clients;
            rates[index] = rate;
            ttfts[index] = Report.percentile(ttft, 0.5);
            index++;
        }
        report.table("concurrency", List.of("clients", "requests", "tokens", "wall s", "aggregate tok/s",
                "vs 1 client", "TTFT p50 ms", "TTFT p99 ms", "latency p50 ms", "latency p99 ms",
                "per-stream tok/s p50", "HTTP 429", "other errors"), rows);
        report.paragraph("*per-stream tok/s* = one request's tokens after the first / (latency − TTFT): the decode "
                + "speed a single client sees once its stream has started.");
        if (!firstErrors.isEmpty()) {
            StringBuilder errors = new StringBuilder("First error of each kind:");
            firstErrors.forEach((kind, detail) -> errors.append("\n- ").append(kind).append(": ").append(detail));
            report.paragraph(errors.toString());
        }
        report.plot("concurrency-throughput", "Aggregate generated tokens/s vs concurrent clients", "clients",
                "tokens/s", Map.of("aggregate tokens/s", new double[][] {xs, rates}), false);
        report.plot("concurrency-ttft", "Time to first token (p50) vs concurrent clients", "clients", "ms",
                Map.of("TTFT p50", new double[][] {xs, ttfts}), false);
        List<String> last = rows.get(rows.size() - 1);
        List<String> first = rows.get(0);
        report.headline(("Concurrency, bundled model, max-concurrent %d: 16 streaming clients get %s tokens/s in "
                + "aggregate, %s× one client (%s), TTFT p50 %s ms vs %s ms; %s HTTP 429, %s other errors").formatted(
                admission.maxConcurrent(), last.get(4), last.get(5), first.get(4), last.get(6), first.get(6),
                total(rows, 11), total(rows, 12)));
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

    /** One streaming request, read line by line as the server sends it. */
    private static Outcome stream(HttpClient http, URI uri, String body) {
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
                    if (chunks++ == 0) {
                        ttft = (System.nanoTime() - start) / 1e6;
                    }
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
            return new Outcome(ttft, total, tokens, chunks, null, null);
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

    private static long total(List<List<String>> rows, int column) {
        return rows.stream().mapToLong(row -> Long.parseLong(row.get(column))).sum();
    }
}
