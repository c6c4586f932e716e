package dev.kvshare.api;

import org.springframework.boot.jackson.autoconfigure.JsonMapperBuilderCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.cfg.CoercionAction;
import tools.jackson.databind.cfg.CoercionInputShape;
import tools.jackson.databind.cfg.MutableCoercionConfig;
import tools.jackson.databind.type.LogicalType;

/**
 * Request JSON is read as typed: Jackson by default turns {@code "10"} and {@code 1.7} into the integer 10 or
 * 1, {@code 1} into {@code true} and {@code 5} into the string "5". A client that sends the wrong type has a
 * bug it should hear about, so each of those is a 400 naming the field.
 */
@Configuration(proxyBeanMethods = false)
class StrictJsonConfiguration {

    @Bean
    JsonMapperBuilderCustomizer strictScalars() {
        return builder -> builder
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .withCoercionConfig(LogicalType.Integer, StrictJsonConfiguration::refuseStrings)
                .withCoercionConfig(LogicalType.Float, StrictJsonConfiguration::refuseStrings)
                .withCoercionConfig(LogicalType.Boolean, config -> {
                    refuseStrings(config);
                    config.setCoercion(CoercionInputShape.Integer, CoercionAction.Fail);
                })
                .withCoercionConfig(LogicalType.Textual, config -> {
                    config.setCoercion(CoercionInputShape.Integer, CoercionAction.Fail);
                    config.setCoercion(CoercionInputShape.Float, CoercionAction.Fail);
                    config.setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
                });
    }

    private static void refuseStrings(MutableCoercionConfig config) {
        config.setCoercion(CoercionInputShape.String, CoercionAction.Fail);
        config.setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail);
    }
}
