package dev.kvshare.observability;

import io.micrometer.tracing.Span;

/** Starts the span of each generated sequence, attributed in the OpenTelemetry GenAI conventions. */
public class GenerationTracing {

    private final Spans spans;
    private final String model;

    public GenerationTracing(Spans spans, String model) {
        this.spans = spans;
        this.model = model;
    }

    /**
     * The sequence's span, a child of the current one (the HTTP request's), and its admission-wait child.
     * Called where the request arrives, on the thread that received it.
     */
    public SequenceTrace start(String operation, int promptTokens, int maxTokens, double temperature, double topP,
                               int topK) {
        Span sequence = spans.tracer().nextSpan().name(operation + " " + model)
                .tag("gen_ai.operation.name", operation)
                .tag("gen_ai.request.model", model)
                .tag("gen_ai.request.max_tokens", maxTokens)
                .tag("gen_ai.request.temperature", temperature)
                .tag("gen_ai.request.top_p", topP)
                .tag("gen_ai.request.top_k", topK)
                .tag("gen_ai.usage.input_tokens", promptTokens)
                .start();
        return new SequenceTrace(spans, sequence, model);
    }
}
