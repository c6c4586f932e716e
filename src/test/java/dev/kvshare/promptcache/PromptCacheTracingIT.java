package dev.kvshare.promptcache;

import static dev.kvshare.promptcache.PromptCacheReplicaIT.cached;
import static dev.kvshare.promptcache.PromptCacheReplicaIT.ids;
import static dev.kvshare.promptcache.PromptCacheReplicaIT.json;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import com.sun.net.httpserver.HttpServer;
import dev.kvshare.model.ModelFingerprint;
import dev.kvshare.testsupport.Http;
import dev.kvshare.testsupport.TestModels;
import dev.kvshare.testsupport.TestPrompts;
import dev.kvshare.testsupport.TestRedis;
import dev.kvshare.testsupport.TraceWaterfall;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.parallel.ResourceLock;
import org.junit.jupiter.api.parallel.Resources;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * A request whose prefix comes from Redis is traced as one span tree: HTTP request → sequence (GenAI
 * attributes, cached tokens, tier) → admission, lookup (local, Redis), restore, prefill, decode, and the
 * background store. Spans are read from the OpenTelemetry SDK (an in-memory exporter beside the OTLP one) and
 * the OTLP exporter is checked to send them, over HTTP, to an in-process receiver. The Redis hit's trace is
 * drawn to {@code target/trace-redis-hit.svg} (the picture in docs/operations.md).
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "kvshare.prompt-cache.block-size=16", "kvshare.prompt-cache.redis.enabled=true",
        "management.opentelemetry.tracing.export.schedule-delay=100ms",
        "logging.level.dev.kvshare.observability.SequenceObservation=debug"})
@ExtendWith(OutputCaptureExtension.class)
// No concurrent test class logs into the capture meanwhile; first of the serial classes, while the soak holds
// the second worker, so that it never waits for that lock (docs/architecture.md, Tests).
@Order(2)
@ResourceLock(Resources.SYSTEM_OUT)
class PromptCacheTracingIT {

    static final TestRedis REDIS = new TestRedis().start();
    static final OtlpReceiver OTLP = new OtlpReceiver();

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        registry.add("kvshare.model.path", () -> TestModels.reference(TestModels.LLAMA).toString());
        registry.add("spring.data.redis.host", REDIS::host);
        registry.add("spring.data.redis.port", REDIS::port);
        registry.add("management.opentelemetry.tracing.export.otlp.endpoint", OTLP::url);
    }

    @TestConfiguration
    static class Spans {
        @Bean
        InMemorySpanExporter inMemorySpanExporter() {
            return InMemorySpanExporter.create();
        }
    }

    @AfterAll
    static void stop() {
        OTLP.close();
        REDIS.close();
    }

    @LocalServerPort
    int port;
    @Autowired
    InMemorySpanExporter spans;
    @Autowired
    PromptCache promptCache;

    @Test
    void aRedisHitIsOneSpanTreeWithEveryPhase(CapturedOutput output) throws Exception {
        String model = TestModels.LLAMA;
        JsonNode first = chat("Where is my refund?");
        RedisKeys.awaitAll(REDIS, RedisKeys.chainKeys(ModelFingerprint.of(TestModels.reference(model)).digest(), 16,
                ids(first.path("prompt_token_ids")), CacheNamespace.salt(CacheNamespace.ANONYMOUS, null)));
        promptCache.evictLocal();
        JsonNode second = chat("My parcel arrived damaged.");
        assertThat(cached(second)).isPositive();

        SpanData sequence = awaitSpan(span -> span.getName().equals("chat " + model)
                && "redis".equals(span.getAttributes().get(AttributeKey.stringKey("kvshare.cache_tier"))));
        List<SpanData> trace = awaitTrace(sequence.getTraceId(), List.of("kvshare.decode"));
        Map<String, SpanData> byName = trace.stream()
                .collect(Collectors.toMap(SpanData::getName, Function.identity(), (a, b) -> a));

        SpanData http = byName.get("http post /v1/chat/completions");
        assertThat(http).as("spans: %s", byName.keySet()).isNotNull();
        assertThat(sequence.getParentSpanId()).isEqualTo(http.getSpanId());
        for (String child : List.of("kvshare.admission", "kvshare.prompt_cache.lookup", "kvshare.prompt_cache.restore",
                "kvshare.prefill", "kvshare.decode")) {
            assertThat(byName.get(child)).as(child).isNotNull();
            assertThat(byName.get(child).getParentSpanId()).as(child).isEqualTo(sequence.getSpanId());
        }
        SpanData lookup = byName.get("kvshare.prompt_cache.lookup");
        assertThat(byName.get("kvshare.prompt_cache.local").getParentSpanId()).isEqualTo(lookup.getSpanId());
        SpanData redis = byName.get("kvshare.prompt_cache.redis");
        assertThat(redis.getParentSpanId()).isEqualTo(lookup.getSpanId());
        assertThat(attribute(byName.get("kvshare.prompt_cache.local"), "kvshare.blocks")).isEqualTo("0");
        assertThat(Integer.parseInt(attribute(redis, "kvshare.blocks")) * 16).isEqualTo(cached(second));

        JsonNode usage = second.path("usage");
        assertThat(attribute(sequence, "gen_ai.operation.name")).isEqualTo("chat");
        assertThat(attribute(sequence, "gen_ai.request.model")).isEqualTo(model);
        assertThat(attribute(sequence, "gen_ai.response.model")).isEqualTo(model);
        assertThat(attribute(sequence, "gen_ai.request.max_tokens")).isEqualTo("6");
        assertThat(attribute(sequence, "gen_ai.usage.input_tokens")).isEqualTo(usage.path("prompt_tokens").asString());
        assertThat(attribute(sequence, "gen_ai.usage.output_tokens"))
                .isEqualTo(usage.path("completion_tokens").asString());
        assertThat(attribute(sequence, "gen_ai.response.finish_reasons")).isEqualTo("length");
        assertThat(attribute(sequence, "kvshare.cached_tokens")).isEqualTo(Integer.toString(cached(second)));
        assertThat(attribute(sequence, "kvshare.cached_tokens.redis")).isEqualTo(Integer.toString(cached(second)));
        assertThat(attribute(byName.get("kvshare.prefill"), "kvshare.computed_tokens"))
                .isEqualTo(Integer.toString(usage.path("prompt_tokens").asInt() - cached(second)));

        // The first request computed the prompt and stored its blocks in the background, under its own sequence.
        SpanData firstSequence = awaitSpan(span -> span.getName().equals("chat " + model)
                && "none".equals(span.getAttributes().get(AttributeKey.stringKey("kvshare.cache_tier"))));
        SpanData store = awaitTrace(firstSequence.getTraceId(), List.of("kvshare.prompt_cache.store")).stream()
                .filter(span -> span.getName().equals("kvshare.prompt_cache.store")).findFirst().orElseThrow();
        assertThat(store.getParentSpanId()).isEqualTo(firstSequence.getSpanId());

        // Log lines written while the sequence ran carry its trace id.
        assertThat(output.getOut()).containsPattern("(?m)^.*" + sequence.getTraceId() + ".*Sequence finished: 6 tokens");

        TraceWaterfall.write(trace, sequence, Path.of("target", "trace-redis-hit.svg"));

        // The same spans went out over OTLP/HTTP (protobuf: the names are in it as plain strings).
        String received = OTLP.awaitBodyContaining("kvshare.prompt_cache.redis");
        assertThat(received).contains("chat " + model, "gen_ai.usage.input_tokens", "kvshare.cached_tokens");
    }

    private JsonNode chat(String user) {
        var response = new Http(port).post("/v1/chat/completions", """
                {"messages": [{"role": "system", "content": %s}, {"role": "user", "content": %s}],
                 "max_tokens": 6, "temperature": 0, "ignore_eos": true, "return_token_ids": true}"""
                .formatted(json(TestPrompts.SUPPORT), json(user)));
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        return response.json();
    }

    private static String attribute(SpanData span, String key) {
        return span.getAttributes().asMap().entrySet().stream().filter(e -> e.getKey().getKey().equals(key))
                .map(e -> String.valueOf(e.getValue())).findFirst().orElse(null);
    }

    /** Spans are exported in batches after they end: wait (bounded) for one. */
    private SpanData awaitSpan(java.util.function.Predicate<SpanData> wanted) throws InterruptedException {
        for (int i = 0; i < 400; i++) {
            var found = spans.getFinishedSpanItems().stream().filter(wanted).findFirst();
            if (found.isPresent()) {
                return found.get();
            }
            Thread.sleep(25);
        }
        throw new AssertionError("No such span among " + spans.getFinishedSpanItems().stream().map(SpanData::getName)
                .toList());
    }

    private List<SpanData> awaitTrace(String traceId, List<String> names) throws InterruptedException {
        for (String name : names) {
            awaitSpan(span -> span.getTraceId().equals(traceId) && span.getName().equals(name));
        }
        awaitSpan(span -> span.getTraceId().equals(traceId) && span.getName().startsWith("http "));
        return spans.getFinishedSpanItems().stream().filter(span -> span.getTraceId().equals(traceId)).toList();
    }

    /** A minimal OTLP/HTTP trace receiver: keeps the bodies POSTed to /v1/traces. */
    static final class OtlpReceiver implements AutoCloseable {

        private final HttpServer server;
        private final StringBuffer bodies = new StringBuffer();

        OtlpReceiver() {
            try {
                server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            server.createContext("/v1/traces", exchange -> {
                ByteArrayOutputStream body = new ByteArrayOutputStream();
                exchange.getRequestBody().transferTo(body);
                if ("application/x-protobuf".equals(exchange.getRequestHeaders().getFirst("Content-Type"))) {
                    bodies.append(body.toString(StandardCharsets.ISO_8859_1));
                }
                exchange.sendResponseHeaders(200, -1);
                exchange.close();
            });
            server.start();
        }

        String url() {
            return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1/traces";
        }

        String awaitBodyContaining(String text) throws InterruptedException {
            for (int i = 0; i < 400 && bodies.indexOf(text) < 0; i++) {
                Thread.sleep(25);
            }
            assertThat(bodies.toString()).contains(text);
            return bodies.toString();
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }
}
