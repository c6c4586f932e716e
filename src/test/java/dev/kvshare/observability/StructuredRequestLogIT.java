package dev.kvshare.observability;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import dev.kvshare.soak.ReplicaProcess;
import dev.kvshare.testsupport.Http;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import tools.jackson.databind.JsonNode;

/**
 * The service as operators run it — its own JVM with the CPU ONNX Runtime, JSON logs through Spring Boot's
 * structured logging — writes one JSON line per request with the outcome as fields, and starts without a
 * CUDA warning.
 */
// Beside the serial integration tests: the service runs in a JVM of its own (docs/architecture.md, Tests).
@Execution(ExecutionMode.CONCURRENT)
class StructuredRequestLogIT {

    @Test
    void eachRequestIsOneJsonLineAndStartUpHasNoCudaWarning(@TempDir Path workDir) throws Exception {
        try (ReplicaProcess app = ReplicaProcess.start(workDir, Map.of("logging.level.root", "info",
                "logging.structured.format.console", "ecs", "kvshare.prompt-cache.tenants[key-acme]", "acme"),
                List.of())) {
            Http.Response ok = app.http().post("/v1/chat/completions", """
                    {"messages": [{"role": "user", "content": "Where is my parcel?"}], "max_tokens": 5,
                     "ignore_eos": true, "prompt_cache_key": "user-7", "prompt_cache_retention": "24h"}""",
                    "Bearer key-acme");
            assertThat(ok.status()).as(ok.body()).isEqualTo(200);
            Http.Response refused = app.http().post("/v1/chat/completions", """
                    {"messages": [{"role": "user", "content": "hi"}], "prompt_cache_retention": "forever"}""");
            assertThat(refused.status()).isEqualTo(400);
            assertThat(refused.json().path("error").path("param").asString()).isEqualTo("prompt_cache_retention");

            JsonNode line = awaitLine(app.log(), "request_id", ok.json().path("id").asString());
            JsonNode usage = ok.json().path("usage");
            assertThat(line.path("log").path("logger").asString()).isEqualTo("kvshare.requests");
            assertThat(line.path("log").path("level").asString()).isEqualTo("INFO");
            assertThat(line.path("tenant").asString()).isEqualTo("acme");
            assertThat(line.path("model").asString()).isEqualTo(ok.json().path("model").asString());
            assertThat(line.path("prompt_tokens").asInt()).isEqualTo(usage.path("prompt_tokens").asInt());
            assertThat(line.path("cached_tokens").asInt())
                    .isEqualTo(usage.path("prompt_tokens_details").path("cached_tokens").asInt());
            assertThat(line.path("completion_tokens").asInt()).isEqualTo(5);
            assertThat(line.path("finish_reason").asString()).isEqualTo("length");
            assertThat(line.path("status").asInt()).isEqualTo(200);
            assertThat(line.path("ttft_ms").asLong()).isNotNegative()
                    .isLessThanOrEqualTo(line.path("duration_ms").asLong());
            assertThat(line.path("message").asString()).startsWith("request " + ok.json().path("id").asString());

            JsonNode refusal = awaitLine(app.log(), "status", "400");
            assertThat(refusal.path("error_type").asString()).isEqualTo("invalid_request_error");
            assertThat(refusal.path("tenant").asString()).isEqualTo("anonymous");

            List<String> lines = Files.readAllLines(app.log());
            assertThat(lines).filteredOn(l -> l.toLowerCase(Locale.ROOT).contains("cuda"))
                    .noneMatch(l -> l.contains("\"WARN\"") || l.contains("\"ERROR\"") || !l.startsWith("{"));
        }
    }

    /** The JSON log line whose {@code field} is {@code value}; request lines are written as requests end. */
    private static JsonNode awaitLine(Path log, String field, String value) throws Exception {
        for (int attempt = 0; attempt < 100; attempt++) {
            Optional<JsonNode> line = Files.readAllLines(log).stream().filter(l -> l.startsWith("{"))
                    .map(l -> Http.JSON.readTree(l))
                    .filter(json -> json.path(field).asString("").equals(value)).findFirst();
            if (line.isPresent()) {
                return line.get();
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no JSON log line with " + field + "=" + value + " in:\n" + Files.readString(log));
    }
}
