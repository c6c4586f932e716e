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
 * (docs/configuration.md).
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
