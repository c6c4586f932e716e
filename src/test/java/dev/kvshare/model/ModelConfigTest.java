package dev.kvshare.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.kvshare.model.ModelConfig.SamplingDefaults;

class ModelConfigTest {

    @TempDir
    Path dir;

    @Test
    void samplingDefaultsComeFromGenerationConfig() throws IOException {
        Files.writeString(dir.resolve("generation_config.json"), """
                {"eos_token_id": [2, 0], "do_sample": true, "temperature": 0.3, "top_p": 0.9}""");

        assertThat(ModelConfig.read(dir).samplingDefaults()).isEqualTo(new SamplingDefaults(0.3, 0.9));
    }

    @Test
    void withoutThemTheDefaultsAreOpenAis() throws IOException {
        Files.writeString(dir.resolve("generation_config.json"), """
                {"eos_token_id": 2}""");

        assertThat(ModelConfig.read(dir).samplingDefaults()).isEqualTo(new SamplingDefaults(1.0, 1.0));
        assertThat(ModelConfig.read(dir.resolve("absent")).samplingDefaults()).isEqualTo(SamplingDefaults.OPENAI);
    }

    @Test
    void defaultsOutsideTheApisRangesAreRejected() throws IOException {
        Files.writeString(dir.resolve("generation_config.json"), """
                {"temperature": 0.7, "top_p": 0}""");

        assertThatThrownBy(() -> ModelConfig.read(dir)).isInstanceOf(UnsupportedModelException.class)
                .hasMessageContaining("top_p");
    }
}
