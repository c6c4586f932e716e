package dev.kvshare.observability;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.stream.Collectors;

import io.micrometer.common.KeyValues;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.tracing.Span;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.otel.bridge.OtelCurrentTraceContext;
import io.micrometer.tracing.otel.bridge.OtelTracer;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import org.junit.jupiter.api.Test;

/** A sequence's one observation makes both its meters and its spans, under the names dashboards and alerts use. */
class SequenceObservationTest {

    private static final String MODEL = "tiny";

    private final InMemorySpanExporter exported = InMemorySpanExporter.create();
    private final Tracer tracer = new OtelTracer(SdkTracerProvider.builder()
            .addSpanProcessor(SimpleSpanProcessor.create(exported)).build().get("test"),
            new OtelCurrentTraceContext(), event -> { });
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final GenerationMetrics metrics = new GenerationMetrics(meters, MODEL);

    private SequenceObservations observations(SequenceObservationConvention convention) {
        return new SequenceObservations(metrics, new Spans(tracer), MODEL, convention);
    }

    @Test
    void aFinishedSequenceIsMeteredAndTracedFromItsEvents() {
        Span request = tracer.nextSpan().name("http post /v1/chat/completions").start();
        SequenceObservation sequence;
        try (Tracer.SpanInScope ignored = tracer.withSpan(request)) {
            sequence = observations(null).start("chat", 20, 6, 0.5, 1.0, 40);
        }
        CompletableFuture<String> result = new CompletableFuture<>();
        sequence.around(result, () -> {
            sequence.restored(16, 0);
            sequence.in("kvshare.prompt_cache.restore", () -> null);
            sequence.prefilling(4);
            assertThat(sequence.firstToken()).isPositive();
            sequence.token();
            sequence.token();
            sequence.token();
            sequence.finished(4, "stop");
            result.complete("done");
        }).run();
        request.end();

        assertThat(meters.get("kvshare.prompt.tokens").tags("source", "local").counter().count()).isEqualTo(16);
        assertThat(meters.get("kvshare.prompt.tokens").tags("source", "computed").counter().count()).isEqualTo(4);
        assertThat(meters.get("kvshare.generation.tokens").counter().count()).isEqualTo(3);
        assertThat(meters.get("kvshare.inter.token.latency").timer().count()).isEqualTo(2);
        assertThat(meters.get("kvshare.time.to.first.token").timer().count()).isEqualTo(1);
        assertThat(meters.get("kvshare.request.duration").tags("finish_reason", "stop").timer().count()).isEqualTo(1);

        Map<String, SpanData> spans = spansByName();
        SpanData span = spans.get("chat " + MODEL);
        assertThat(span).as("spans: %s", spans.keySet()).isNotNull();
        assertThat(span.getParentSpanId()).isEqualTo(request.context().spanId());
        for (String child : List.of("kvshare.admission", "kvshare.prompt_cache.restore", "kvshare.prefill",
                "kvshare.decode")) {
            assertThat(spans.get(child).getParentSpanId()).as(child).isEqualTo(span.getSpanId());
        }
        assertThat(spans.get("kvshare.prefill").getAttributes().get(AttributeKey.longKey("kvshare.computed_tokens")))
                .isEqualTo(4);
        assertThat(attribute(span, "gen_ai.operation.name")).isEqualTo("chat");
        assertThat(attribute(span, "gen_ai.request.model")).isEqualTo(MODEL);
        assertThat(attribute(span, "gen_ai.request.max_tokens")).isEqualTo("6");
        assertThat(attribute(span, "gen_ai.request.top_k")).isEqualTo("40");
        assertThat(attribute(span, "gen_ai.usage.input_tokens")).isEqualTo("20");
        assertThat(attribute(span, "gen_ai.usage.output_tokens")).isEqualTo("4");
        assertThat(attribute(span, "gen_ai.response.finish_reasons")).isEqualTo("stop");
        assertThat(attribute(span, "gen_ai.response.model")).isEqualTo(MODEL);
        assertThat(attribute(span, "kvshare.cached_tokens")).isEqualTo("16");
        assertThat(attribute(span, "kvshare.cache_tier")).isEqualTo("local");
        assertThat(span.getEvents()).isEmpty();
    }

    @Test
    void aRequestCancelledInTheQueueIsCountedAndMarkedOnItsSpan() {
        SequenceObservation sequence = observations(null).start("text_completion", 5, 3, 0, 1, 0);
        CompletableFuture<String> result = new CompletableFuture<>();
        double before = cancelled("client_disconnected", "queued");

        sequence.clientDisconnected(SequenceObservation.QUEUED);
        result.cancel(false);
        sequence.around(result, () -> { }).run();

        assertThat(cancelled("client_disconnected", "queued")).isEqualTo(before + 1);
        SpanData span = spansByName().get("text_completion " + MODEL);
        assertThat(span.getEvents()).extracting(event -> event.getName())
                .containsExactly("client disconnected while queued");
        assertThat(attribute(span, "kvshare.cancelled")).isEqualTo("queued");
        assertThat(spansByName()).doesNotContainKeys("kvshare.prefill", "kvshare.decode");
    }

    @Test
    void aSlowClientIsCountedOnceWhileItsSequenceGenerates() {
        SequenceObservation sequence = observations(null).start("chat", 5, 3, 0, 1, 0);
        CompletableFuture<String> result = new CompletableFuture<>();
        sequence.around(result, () -> {
            sequence.prefilling(5);
            sequence.firstToken();
            sequence.slowClient();
            result.cancel(false);
        }).run();

        assertThat(cancelled("slow_client", "generating")).isEqualTo(1);
        assertThat(cancelled("client_disconnected", "generating")).isZero();
        assertThat(spansByName().get("chat " + MODEL).getEvents()).extracting(event -> event.getName())
                .containsExactly("client disconnected while generating");
    }

    @Test
    void aRefusedRequestIsCountedAndItsSpanEndsWithTheError() {
        SequenceObservation sequence = observations(null).start("chat", 5, 3, 0, 1, 0);

        sequence.rejected(new IllegalStateException("The server is at capacity"));

        assertThat(meters.get("kvshare.requests.rejected").counter().count()).isEqualTo(1);
        assertThat(meters.find("kvshare.request.duration").timers()).isEmpty();
        SpanData span = spansByName().get("chat " + MODEL);
        assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
        assertThat(spansByName().get("kvshare.admission").hasEnded()).isTrue();
    }

    @Test
    void aWarmUpCountsTheTokensItRestoresButHasNoSpan() {
        try (SequenceObservation warmUp = observations(null).warmUp(700)) {
            warmUp.restored(0, 640);
        }

        assertThat(meters.get("kvshare.prompt.tokens").tags("source", "redis").counter().count()).isEqualTo(640);
        assertThat(exported.getFinishedSpanItems()).isEmpty();
    }

    @Test
    void aConventionOfTheApplicationReplacesTheDefaultOne() {
        SequenceObservationConvention renamed = new DefaultSequenceObservationConvention() {
            @Override
            public String getContextualName(SequenceContext context) {
                return "generate " + context.request().model();
            }

            @Override
            public KeyValues getHighCardinalityKeyValues(SequenceContext context) {
                return KeyValues.of("tenant.tier", "gold");
            }
        };
        SequenceObservation sequence = observations(renamed).start("chat", 5, 3, 0, 1, 0);
        CompletableFuture<String> result = new CompletableFuture<>();
        sequence.around(result, () -> {
            sequence.prefilling(5);
            sequence.firstToken();
            sequence.finished(1, "length");
            result.complete("done");
        }).run();

        SpanData span = spansByName().get("generate " + MODEL);
        assertThat(span).as("spans: %s", spansByName().keySet()).isNotNull();
        assertThat(attribute(span, "tenant.tier")).isEqualTo("gold");
        assertThat(attribute(span, "gen_ai.usage.output_tokens")).isNull();
        // The meters do not depend on the convention: dashboards and alerts keep their names and tags.
        assertThat(meters.get("kvshare.request.duration").tags("finish_reason", "length").timer().count())
                .isEqualTo(1);
    }

    private double cancelled(String reason, String stage) {
        return meters.get("kvshare.requests.cancelled").tags("reason", reason, "stage", stage).counter().count();
    }

    private Map<String, SpanData> spansByName() {
        return exported.getFinishedSpanItems().stream()
                .collect(Collectors.toMap(SpanData::getName, Function.identity(), (a, b) -> a));
    }

    private static String attribute(SpanData span, String key) {
        return span.getAttributes().asMap().entrySet().stream().filter(e -> e.getKey().getKey().equals(key))
                .map(e -> String.valueOf(e.getValue())).findFirst().orElse(null);
    }
}
