package dev.kvshare.observability;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.tracing.Tracer;

/**
 * Starts the observation of each generated sequence. Its registry is this service's own, holding the two
 * handlers that make the sequence's meters and spans under their established names: Spring's registry would
 * add its default handlers, which make a timer and a span of their own for every observation.
 */
public class SequenceObservations {

    private static final SequenceObservationConvention DEFAULT_CONVENTION = new DefaultSequenceObservationConvention();

    private final ObservationRegistry registry;
    private final Spans spans;
    private final String model;
    private final SequenceObservationConvention convention;

    /**
     * @param convention replaces {@link DefaultSequenceObservationConvention}; null for the default
     */
    public SequenceObservations(GenerationMetrics metrics, Spans spans, String model,
                                SequenceObservationConvention convention) {
        this.registry = ObservationRegistry.create();
        registry.observationConfig().observationHandler(metrics).observationHandler(new SequenceSpans(spans.tracer()));
        this.spans = spans;
        this.model = model;
        this.convention = convention;
    }

    /**
     * Starts a sequence's observation, where the request arrives, on the thread that received it: its span is a
     * child of the current one (the HTTP request's), and its wait for a slot begins.
     */
    public SequenceObservation start(String operation, int promptTokens, int maxTokens, double temperature,
                                     double topP, int topK) {
        return start(new SequenceContext(new SequenceContext.Request(model, operation, promptTokens, maxTokens,
                temperature, topP, topK), true));
    }

    /**
     * The observation of a warm-up prefill (no request asked for it): the prompt tokens it restores are
     * counted like a request's, but it has no span. The caller closes it.
     */
    public SequenceObservation warmUp(int promptTokens) {
        return start(new SequenceContext(new SequenceContext.Request(model, "warm_up", promptTokens, 0, 0, 0, 0),
                false));
    }

    private SequenceObservation start(SequenceContext context) {
        Observation observation = Observation.createNotStarted(convention, DEFAULT_CONVENTION, () -> context,
                registry).start();
        return new SequenceObservation(observation, context, spans);
    }
}
