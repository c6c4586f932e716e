package dev.kvshare.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import dev.kvshare.generation.SamplingParams;
import dev.kvshare.model.ModelConfig.SamplingDefaults;

class GenerationRequestsTest {

    private static final SamplingDefaults MODEL = new SamplingDefaults(0.3, 0.9);

    private static CompletionRequest request(Double temperature, Double topP) {
        return new CompletionRequest(null, "Hello", 8, null, temperature, topP, null, null, null, null, null, null,
                null, null, null, null, null, null, null, null, null);
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
