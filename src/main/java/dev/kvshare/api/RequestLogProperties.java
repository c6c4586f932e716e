package dev.kvshare.api;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code kvshare.logging.*}.
 *
 * @param requests one INFO line per finished completion request, on the logger {@code kvshare.requests}
 */
@ConfigurationProperties("kvshare.logging")
public record RequestLogProperties(@DefaultValue("true") boolean requests) {
}
