package dev.kvshare.bench;

import dev.kvshare.generation.CachedPrefixes;
import dev.kvshare.generation.ClientLimits;
import dev.kvshare.generation.GenerationProperties;
import dev.kvshare.generation.GenerationService;
import dev.kvshare.generation.SequenceDecoders;
import dev.kvshare.model.ServedModel;
import dev.kvshare.observability.BatchMetrics;
import dev.kvshare.observability.GenerationMetrics;
import dev.kvshare.observability.SequenceObservations;
import dev.kvshare.observability.Spans;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/** The production generation loop for one sequence at a time, its own passes, no prompt cache, no tracing. */
final class LoneSequenceService {

    private LoneSequenceService() {
    }

    static GenerationService of(ServedModel model, int maxTokens, String label) {
        GenerationProperties properties = new GenerationProperties(1, 1, 1, maxTokens, 1, 256);
        GenerationMetrics metrics = new GenerationMetrics(new SimpleMeterRegistry(), label);
        return new GenerationService(model, properties, ClientLimits.defaults(), metrics,
                new SequenceObservations(metrics, Spans.NONE, label, null),
                new SequenceDecoders(model, properties, ClientLimits.defaults(),
                        new BatchMetrics(new SimpleMeterRegistry(), label),
                        CachedPrefixes.NONE));
    }
}
