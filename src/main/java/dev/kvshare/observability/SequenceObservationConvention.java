package dev.kvshare.observability;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationConvention;

/**
 * Names a sequence's observation and its span, and says which attributes it carries. The service uses
 * {@link DefaultSequenceObservationConvention} (OpenTelemetry's GenAI attributes) unless the application context
 * holds a bean of this type, which then replaces it.
 */
public interface SequenceObservationConvention extends ObservationConvention<SequenceContext> {

    @Override
    default boolean supportsContext(Observation.Context context) {
        return context instanceof SequenceContext;
    }
}
