package dev.kvshare.kvevents;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code kvshare.kv-events.*}: the local tier's KV events in vLLM's ZMQ format (docs/configuration.md).
 *
 * @param enabled        publish them
 * @param endpoint       the PUB socket: bound when it holds {@code *} or {@code ::} (or is ipc/inproc), else
 *                       connected to, as vLLM decides
 * @param replayEndpoint the ROUTER socket that resends buffered batches from a requested sequence number; always
 *                       bound; blank for none
 * @param topic          the first frame of every message (llm-d reads {@code kv@<pod>@<model>} from it)
 * @param bufferSteps    batches kept for replay
 * @param format         {@code array} (positional, what llm-d and Dynamo decode) or {@code map} (named keys)
 * @param medium         the {@code medium} of every event: where the replica holds the blocks, as routers weigh it
 */
@ConfigurationProperties("kvshare.kv-events")
public record KvEventsProperties(
        @DefaultValue("false") boolean enabled,
        @DefaultValue("tcp://*:5557") String endpoint,
        @DefaultValue("tcp://*:5558") String replayEndpoint,
        @DefaultValue("") String topic,
        @DefaultValue("10000") int bufferSteps,
        @DefaultValue("array") EventFormat format,
        @DefaultValue("GPU") String medium) {

    public KvEventsProperties {
        if (bufferSteps < 1) {
            throw new IllegalArgumentException("kvshare.kv-events.buffer-steps must be positive: " + bufferSteps);
        }
        if (enabled && (endpoint == null || endpoint.isBlank())) {
            throw new IllegalArgumentException("kvshare.kv-events.endpoint must be set when KV events are enabled");
        }
    }
}
