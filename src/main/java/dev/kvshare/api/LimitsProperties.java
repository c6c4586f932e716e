package dev.kvshare.api;

import java.time.Duration;

import dev.kvshare.generation.ClientLimits;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * {@code kvshare.limits.*}: what one request may ask the service to read, hold and tokenize, checked before
 * that cost is paid. The defaults are far above what any model's context can use.
 *
 * @param maxRequestBytes  request body size; larger bodies get 413 before they are read
 * @param maxMessages      messages in one chat request
 * @param maxMessageChars  characters of one message's content
 * @param maxRequestChars  characters of all messages (or the prompt) of one request together
 * @param maxStopStrings   stop strings in one request
 * @param maxStopChars     characters of one stop string
 * @param requestReadTimeout a request's headers, and then its body, must arrive within this long; a slower
 *                           connection is closed (a body gets 408 first), so trickling bytes holds nothing
 * @param slowClientTimeout   how long a client may leave generated text unread (a chunk waits to be written)
 *                            before its request is cancelled and its slot freed
 * @param maxRunningPerClient sequences one client (its tenant, or its remote address) runs at once; 0: every slot
 * @param maxQueuedPerClient  requests one client may have waiting; 0: a quarter of the queue (at least 1)
 * @param socketSendBuffer    what the kernel may hold unsent for one connection (its socket send buffer): a
 *                            client that does not read fills it soon, so its output waits in the request's own
 *                            buffer, its sequence pauses and {@code slowClientTimeout} applies; autotuned, the
 *                            kernel would take megabytes, thousands of tokens generated for nobody
 * @param maxNeighbourSlowdown how much slower than their rows alone a client holding batch places beyond its
 *                            first may make the decode passes it shares with clients that have fewer requests
 *                            (running or queued), as predicted from the passes that ran: a client with many
 *                            streams costs mostly itself (at least 1)
 */
@ConfigurationProperties("kvshare.limits")
public record LimitsProperties(
        @DefaultValue("2MB") DataSize maxRequestBytes,
        @DefaultValue("512") int maxMessages,
        @DefaultValue("262144") int maxMessageChars,
        @DefaultValue("524288") int maxRequestChars,
        @DefaultValue("4") int maxStopStrings,
        @DefaultValue("256") int maxStopChars,
        @DefaultValue("30s") Duration requestReadTimeout,
        @DefaultValue("10s") Duration slowClientTimeout,
        @DefaultValue("0") int maxRunningPerClient,
        @DefaultValue("0") int maxQueuedPerClient,
        @DefaultValue("64KB") DataSize socketSendBuffer,
        @DefaultValue("1.2") double maxNeighbourSlowdown) {

    public LimitsProperties {
        if (maxRequestBytes.toBytes() < 1 || maxMessages < 1 || maxMessageChars < 1 || maxRequestChars < 1
                || maxStopStrings < 0 || maxStopChars < 1 || requestReadTimeout.toMillis() < 1
                || socketSendBuffer.toBytes() < 1 || socketSendBuffer.toBytes() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("kvshare.limits: every limit must be positive (max-stop-strings "
                    + "may be 0)");
        }
        // Checks them.
        new ClientLimits(slowClientTimeout, maxRunningPerClient, maxQueuedPerClient, maxNeighbourSlowdown);
    }

    /** The limits on what one client may hold of the service. */
    public ClientLimits clients() {
        return new ClientLimits(slowClientTimeout, maxRunningPerClient, maxQueuedPerClient, maxNeighbourSlowdown);
    }
}
