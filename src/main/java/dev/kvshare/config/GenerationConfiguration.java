package dev.kvshare.config;

import dev.kvshare.generation.CachedPrefixes;
import dev.kvshare.generation.ClientLimits;
import dev.kvshare.generation.GenerationProperties;
import dev.kvshare.generation.GenerationService;
import dev.kvshare.generation.PromptBuilder;
import dev.kvshare.generation.PromptCachePrefixes;
import dev.kvshare.generation.SequenceDecoders;
import dev.kvshare.generation.WarmupPrefill;
import dev.kvshare.model.ServedModel;
import dev.kvshare.observability.BatchMetrics;
import dev.kvshare.observability.GenerationMetrics;
import dev.kvshare.observability.SequenceObservations;
import dev.kvshare.promptcache.PromptCache;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Wires generation for the served model: its prompts, its decoders after the prompt cache, and admission. */
@Configuration(proxyBeanMethods = false)
public class GenerationConfiguration {

    @Bean
    PromptBuilder promptBuilder(ServedModel model) {
        return new PromptBuilder(model);
    }

    /** The prompt cache's prefixes, or none when {@code kvshare.prompt-cache.enabled=false}. */
    @Bean
    CachedPrefixes cachedPrefixes(ServedModel model, ObjectProvider<PromptCache> promptCache) {
        PromptCache cache = promptCache.getIfAvailable();
        return cache == null ? CachedPrefixes.NONE : new PromptCachePrefixes(cache, model.decoder().kvBlocks());
    }

    /** Closed after the generation service, which depends on it, has let its sequences finish. */
    @Bean
    SequenceDecoders sequenceDecoders(ServedModel model, GenerationProperties properties, ClientLimits clientLimits,
                                      BatchMetrics batchMetrics, CachedPrefixes cachedPrefixes) {
        return new SequenceDecoders(model, properties, clientLimits, batchMetrics, cachedPrefixes);
    }

    @Bean
    WarmupPrefill warmupPrefill(SequenceDecoders decoders, SequenceObservations observations) {
        return new WarmupPrefill(decoders, observations);
    }

    @Bean
    GenerationService generationService(ServedModel model, GenerationProperties properties, ClientLimits clientLimits,
                                        GenerationMetrics metrics, SequenceObservations observations,
                                        SequenceDecoders decoders) {
        return new GenerationService(model, properties, clientLimits, metrics, observations, decoders);
    }
}
