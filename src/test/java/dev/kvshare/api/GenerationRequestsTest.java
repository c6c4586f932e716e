package dev.kvshare.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.kvshare.generation.SamplingParams;
import dev.kvshare.model.ModelConfig.SamplingDefaults;
import dev.kvshare.promptcache.CacheNamespace;

class GenerationRequestsTest {

    private static final SamplingDefaults MODEL = new SamplingDefaults(0.3, 0.9);

    private static final CacheNamespace NAMESPACE = new CacheNamespace(Map.of("key-acme", "acme"));

    private static CompletionRequest request(Double temperature, Double topP) {
        return cacheRequest(temperature, topP, null, null, null);
    }

    private static CompletionRequest cacheRequest(Double temperature, Double topP, String cacheSalt,
                                                  String promptCacheKey, String retention) {
        return new CompletionRequest(null, "Hello", 8, null, temperature, topP, null, null, null, null, null, null,
                null, null, null, null, cacheSalt, promptCacheKey, retention, null, null, null, null);
    }

    private static String salt(String cacheSalt, String promptCacheKey, String retention) {
        return GenerationRequests.salt(cacheRequest(null, null, cacheSalt, promptCacheKey, retention), NAMESPACE,
                "Bearer key-acme");
    }

    @Test
    void promptCacheKeyOnlyNarrowsTheTenantsSalt() {
        String plain = salt("s", null, null);
        assertThat(plain).isEqualTo(CacheNamespace.salt("acme", "s"));
        assertThat(salt("s", "user-1", null)).isNotEqualTo(plain).isNotEqualTo(salt("s", "user-2", null))
                .startsWith(plain).isEqualTo(salt("s", "user-1", "24h"));
        assertThat(salt(null, "x", null)).isNotEqualTo(salt("x", null, null));
        assertThat(GenerationRequests.salt(cacheRequest(null, null, "s", "user-1", null), NAMESPACE, null))
                .doesNotContain("acme");
    }

    @Test
    void promptCacheRetentionTakesOpenAisValuesAndTheKeyIsBounded() {
        assertThat(salt(null, null, "in_memory")).isEqualTo(salt(null, null, "24h")).isEqualTo(salt(null, null, null));
        assertThatThrownBy(() -> salt(null, null, "forever")).isInstanceOf(InvalidRequestException.class)
                .extracting("param").isEqualTo("prompt_cache_retention");
        assertThat(salt(null, "k".repeat(GenerationRequests.MAX_PROMPT_CACHE_KEY_CHARS), null)).isNotNull();
        assertThatThrownBy(() -> salt(null, "k".repeat(GenerationRequests.MAX_PROMPT_CACHE_KEY_CHARS + 1), null))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("at most 1024")
                .extracting("param").isEqualTo("prompt_cache_key");
    }

    @Test
    void aRequestWithoutTemperatureOrTopPGetsTheModelsDefaults() {
        SamplingParams params = GenerationRequests.sampling(request(null, null), MODEL);

        assertThat(params.temperature()).isEqualTo(0.3);
        assertThat(params.topP()).isEqualTo(0.9);
    }

    @Test
    void whatTheRequestSetsWins() {
        SamplingParams params = GenerationRequests.sampling(request(0.0, 1.0), MODEL);

        assertThat(params.temperature()).isEqualTo(0.0);
        assertThat(params.topP()).isEqualTo(1.0);
    }
}
