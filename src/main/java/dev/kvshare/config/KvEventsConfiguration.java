package dev.kvshare.config;

import dev.kvshare.kvevents.KvEventPublisher;
import dev.kvshare.kvevents.KvEventsProperties;
import dev.kvshare.kvevents.PublishingLocalTierEvents;
import dev.kvshare.model.ServedModel;
import dev.kvshare.promptcache.LocalTierEvents;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Publishes the local tier's KV events when {@code kvshare.kv-events.enabled=true} (docs/prompt-cache.md). */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(name = "kvshare.kv-events.enabled", havingValue = "true")
public class KvEventsConfiguration {

    @Bean(destroyMethod = "close")
    KvEventPublisher kvEventPublisher(KvEventsProperties properties, MeterRegistry registry, ServedModel model) {
        KvEventPublisher publisher = new KvEventPublisher(properties);
        FunctionCounter.builder("kvshare.kv.events.batches", publisher, KvEventPublisher::published)
                .description("KV event batches published").tag("model", model.name()).register(registry);
        FunctionCounter.builder("kvshare.kv.events.dropped", publisher, KvEventPublisher::dropped)
                .description("KV events dropped because the publisher's queue was full").tag("model", model.name())
                .register(registry);
        return publisher;
    }

    @Bean
    LocalTierEvents localTierEvents(KvEventPublisher publisher, KvEventsProperties properties) {
        return new PublishingLocalTierEvents(publisher, properties.medium());
    }
}
