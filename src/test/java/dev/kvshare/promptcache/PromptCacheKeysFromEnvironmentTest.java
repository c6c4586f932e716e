package dev.kvshare.promptcache;

import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The environment variables the Helm chart passes the keys in (KVSHARE_PROMPTCACHE_ENCRYPTIONKEY and a
 * comma-separated KVSHARE_PROMPTCACHE_DECRYPTIONKEYS) bind, through Spring's relaxed binding, to the properties.
 */
class PromptCacheKeysFromEnvironmentTest {

    private static final String KEY = "5f".repeat(32);
    private static final String OLD_HEX = "0c".repeat(32);
    private static final String OLD_BASE64 = "q83vASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4k=";

    @Test
    void aCommaSeparatedVariableBindsToTheListOfDecryptionKeys() {
        PromptCacheProperties properties = bind(Map.of(
                "KVSHARE_PROMPTCACHE_ENCRYPTIONKEY", KEY,
                "KVSHARE_PROMPTCACHE_DECRYPTIONKEYS", OLD_HEX + "," + OLD_BASE64));

        assertThat(properties.encryptionKey()).isEqualTo(KEY);
        assertThat(properties.decryptionKeys()).containsExactly(OLD_HEX, OLD_BASE64);
        assertThat(FrameKeys.parse(properties.encryptionKey(), properties.decryptionKeys())).isPresent();
    }

    @Test
    void withoutTheVariableThereAreNoDecryptionKeys() {
        assertThat(bind(Map.of("KVSHARE_PROMPTCACHE_ENCRYPTIONKEY", KEY)).decryptionKeys()).isEmpty();
    }

    private static PromptCacheProperties bind(Map<String, Object> variables) {
        StandardEnvironment environment = new StandardEnvironment();
        environment.getPropertySources().addFirst(new SystemEnvironmentPropertySource(
                StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME, variables));
        return new Binder(ConfigurationPropertySources.from(environment.getPropertySources()))
                .bindOrCreate("kvshare.prompt-cache", PromptCacheProperties.class);
    }
}
