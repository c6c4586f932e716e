package dev.kvshare.api;

import java.time.Duration;

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
 */
@ConfigurationProperties("kvshare.limits")
public record LimitsProperties(
        @DefaultValue("2MB") DataSize maxRequestBytes,
        @DefaultValue("512") int maxMessages,
        @DefaultValue("262144") int maxMessageChars,
        @DefaultValue("524288") int maxRequestChars,
        @DefaultValue("4") int maxStopStrings,
        @DefaultValue("256") int maxStopChars,
        @DefaultValue("30s") Duration requestReadTimeout) {

    public LimitsProperties {
        if (maxRequestBytes.toBytes() < 1 || maxMessages < 1 || maxMessageChars < 1 || maxRequestChars < 1
                || maxStopStrings < 0 || maxStopChars < 1 || requestReadTimeout.toMillis() < 1) {
            throw new IllegalArgumentException("kvshare.limits: every limit must be positive (max-stop-strings "
                    + "may be 0)");
        }
    }
}
