package dev.kvshare.config;

import dev.kvshare.api.LimitsProperties;
import dev.kvshare.generation.ClientLimits;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Hands the per-client limits of {@code kvshare.limits.*} to the generation service's admission. */
@Configuration(proxyBeanMethods = false)
public class AdmissionConfiguration {

    @Bean
    ClientLimits clientLimits(LimitsProperties limits) {
        return limits.clients();
    }
}
