package dev.kvshare.testsupport;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import tools.jackson.databind.JsonNode;

/**
 * A real Prometheus (Debian's {@code prometheus} package) scraping one instance every second, for tests that
 * evaluate PromQL against the service's metrics. {@link #isInstalled()} tells whether the binary is there.
 */
public final class TestPrometheus implements AutoCloseable {

    public static final Path BINARY = Path.of("/usr/bin/prometheus");

    private final Process process;
    private final int port;
    private final HttpClient client = HttpClient.newHttpClient();

    private TestPrometheus(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    public static boolean isInstalled() {
        return Files.isExecutable(BINARY);
    }

    /** Starts Prometheus scraping {@code http://127.0.0.1:targetPort/actuator/prometheus}, and waits for its first scrape. */
    public static TestPrometheus scraping(int targetPort, Path workDirectory) throws IOException, InterruptedException {
        Path config = workDirectory.resolve("prometheus.yml");
        Files.writeString(config, """
                global:
                  scrape_interval: 1s
                  evaluation_interval: 1s
                scrape_configs:
                  - job_name: kvshare
                    metrics_path: /actuator/prometheus
                    static_configs:
                      - targets: ["127.0.0.1:%d"]
                """.formatted(targetPort));
        int port = TestRedis.freePort();
        Process process = new ProcessBuilder(BINARY.toString(), "--config.file=" + config,
                "--storage.tsdb.path=" + workDirectory.resolve("data"), "--web.listen-address=127.0.0.1:" + port)
                .redirectErrorStream(true).redirectOutput(workDirectory.resolve("prometheus.log").toFile()).start();
        TestPrometheus prometheus = new TestPrometheus(process, port);
        for (int i = 0; i < 600; i++) {
            if (prometheus.isUp()) {
                return prometheus;
            }
            Thread.sleep(50);
        }
        prometheus.close();
        String log = Files.readString(workDirectory.resolve("prometheus.log"));
        throw new IllegalStateException("Prometheus did not scrape the instance: "
                + log.substring(Math.max(0, log.length() - 3000)));
    }

    private boolean isUp() {
        try {
            JsonNode result = query("up").path("data").path("result");
            return !result.isEmpty() && "1".equals(result.path(0).path("value").path(1).asString());
        } catch (IllegalStateException e) {
            return false; // not listening, or not ready, yet
        }
    }

    /** Waits (bounded) until Prometheus has scraped {@code promql} at {@code value}: it has caught up. */
    public void awaitValue(String promql, double value) throws InterruptedException {
        for (int i = 0; i < 600; i++) {
            JsonNode result = query(promql).path("data").path("result");
            if (!result.isEmpty() && Double.parseDouble(result.path(0).path("value").path(1).asString()) == value) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("Prometheus never saw " + promql + " = " + value + "; targets: " + targets());
    }

    /** The scrape targets' health, for messages when data is missing. */
    public String targets() {
        return get("/api/v1/targets").path("data").path("activeTargets").toString();
    }

    /** {@code /api/v1/query} at the current time. */
    public JsonNode query(String promql) {
        return get("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
    }

    /** {@code /api/v1/query_range} between two instants, one point a second. */
    public JsonNode queryRange(String promql, long fromEpochSecond, long toEpochSecond) {
        return get("/api/v1/query_range?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8) + "&start="
                + fromEpochSecond + "&end=" + toEpochSecond + "&step=1");
    }

    private JsonNode get(String path) {
        try {
            HttpResponse<String> response = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + path)).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() == 503) {
                // Listening but still starting (its storage not open): "Service Unavailable", as plain text.
                throw new IllegalStateException("Prometheus is not ready yet");
            }
            JsonNode body = Http.JSON.readTree(response.body());
            if (response.statusCode() != 200 || !"success".equals(body.path("status").asString())) {
                throw new AssertionError("Prometheus refused " + path + ": " + response.body());
            }
            return body;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
