package dev.kvshare.config;

import java.nio.file.Path;

import ai.onnxruntime.OrtEnvironment;
import dev.kvshare.model.BundledModel;
import dev.kvshare.model.ModelLoader;
import dev.kvshare.model.ModelProperties;
import dev.kvshare.model.ServedModel;
import dev.kvshare.observability.BatchMetrics;
import dev.kvshare.observability.GenerationMetrics;
import dev.kvshare.observability.SequenceObservationConvention;
import dev.kvshare.observability.SequenceObservations;
import dev.kvshare.observability.Spans;
import dev.kvshare.model.LiveTensors;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.tracing.Tracer;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Loads the served model at start-up: the configured directory, or the bundled model. */
@Configuration(proxyBeanMethods = false)
public class ModelConfiguration {

    @Bean(destroyMethod = "close")
    ServedModel servedModel(ModelProperties properties) {
        ModelLoader loader = new ModelLoader(OrtEnvironment.getEnvironment());
        Path directory = properties.path();
        if (directory == null) {
            return loader.load(BundledModel.extract(), properties, BundledModel.NAME);
        }
        return loader.load(directory, properties, directory.getFileName().toString());
    }

    @Bean
    GenerationMetrics generationMetrics(MeterRegistry registry, ServedModel model) {
        FunctionCounter.builder("kvshare.model.run", model.decoder(), decoder -> decoder.sessionRunNanos() / 1e9)
                .description("Time spent inside ONNX Runtime's session.run").baseUnit("seconds")
                .tag("model", model.name()).register(registry);
        Gauge.builder("kvshare.model.live.tensors", model.decoder().liveTensors(), LiveTensors::count)
                .description("Native tensors held now (KV caches, pass inputs, logits buffers)")
                .tag("model", model.name()).register(registry);
        return new GenerationMetrics(registry, model.name());
    }

    /** Spans of the request's steps; no-ops where tracing is off ({@code management.tracing.enabled=false}). */
    @Bean
    Spans spans(ObjectProvider<Tracer> tracer) {
        return new Spans(tracer.getIfAvailable(() -> Tracer.NOOP));
    }

    /** Each sequence's observation; a {@link SequenceObservationConvention} bean replaces its default convention. */
    @Bean
    SequenceObservations sequenceObservations(GenerationMetrics metrics, Spans spans, ServedModel model,
                                              ObjectProvider<SequenceObservationConvention> convention) {
        return new SequenceObservations(metrics, spans, model.name(), convention.getIfAvailable());
    }

    @Bean
    BatchMetrics batchMetrics(MeterRegistry registry, ServedModel model) {
        return new BatchMetrics(registry, model.name());
    }
}
