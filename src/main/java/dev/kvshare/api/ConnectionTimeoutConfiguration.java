package dev.kvshare.api;

import java.util.EnumSet;

import jakarta.servlet.DispatcherType;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import tools.jackson.databind.json.JsonMapper;

/**
 * Connections bounded in time ({@code kvshare.limits.request-read-timeout}): headers through
 * {@link HeaderDeadlineProtocol}, bodies through {@link NonBlockingBodyFilter}. Tomcat's own
 * {@code connection-timeout} and {@code keep-alive-timeout} bound each wait for a byte and idle connections
 * (docs/configuration.md). What a connection may hold unsent is bounded too
 * ({@code kvshare.limits.socket-send-buffer}), so that a client that stops reading is soon seen as slow.
 */
@Configuration(proxyBeanMethods = false)
class ConnectionTimeoutConfiguration {

    @Bean
    WebServerFactoryCustomizer<TomcatServletWebServerFactory> headerDeadline(LimitsProperties limits) {
        return factory -> {
            factory.setProtocol(HeaderDeadlineProtocol.class.getName());
            factory.addConnectorCustomizers(connector -> {
                if (connector.getProtocolHandler() instanceof HeaderDeadlineProtocol protocol) {
                    protocol.setRequestReadTimeout(limits.requestReadTimeout());
                }
            });
        };
    }

    /**
     * Tomcat's {@code socket.txBufSize}, fixed instead of autotuned. 64 KiB by default: a token stream needs
     * little bandwidth, and 64 KiB per 100 ms round trip is 640 KB/s, far above any.
     */
    @Bean
    WebServerFactoryCustomizer<TomcatServletWebServerFactory> socketSendBuffer(LimitsProperties limits) {
        return factory -> factory.addConnectorCustomizers(connector -> connector.setProperty("socket.txBufSize",
                Long.toString(limits.socketSendBuffer().toBytes())));
    }

    @Bean
    FilterRegistrationBean<NonBlockingBodyFilter> nonBlockingBodyFilter(LimitsProperties limits, JsonMapper json) {
        FilterRegistrationBean<NonBlockingBodyFilter> registration = new FilterRegistrationBean<>(
                new NonBlockingBodyFilter(limits.requestReadTimeout(), json));
        registration.setDispatcherTypes(EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC));
        registration.setAsyncSupported(true);
        registration.setOrder(Ordered.LOWEST_PRECEDENCE); // after every other filter, RequestBodyLimitFilter's too
        return registration;
    }
}
