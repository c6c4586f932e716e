package dev.kvshare.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Optional;

import dev.kvshare.testsupport.TestModels;
import org.junit.jupiter.api.Test;

/** Layouts of one model in one directory (past.onnx beside model_q4.onnx) hold different KV: never the same key. */
class ModelFingerprintTest {

    private final Path gpt2 = TestModels.reference(TestModels.GPT2);

    @Test
    void eachLayoutServedFromOneDirectoryHasItsOwnFingerprint() {
        String fp32 = ModelFingerprint.of(ModelFiles.in(gpt2, "past.onnx", Optional.empty())).hex();
        String q4 = ModelFingerprint.of(ModelFiles.in(gpt2, "model_q4.onnx", Optional.empty())).hex();
        assertThat(q4).isNotEqualTo(fp32);
        assertThat(ModelFingerprint.of(ModelFiles.in(gpt2, "model_q4.onnx", Optional.empty())).hex()).isEqualTo(q4);
    }

    @Test
    void aDirectoryAloneIsFingerprintedWithTheDecoderDetectedThere() {
        assertThat(ModelFingerprint.of(gpt2).hex())
                .isEqualTo(ModelFingerprint.of(ModelFiles.in(gpt2, "past.onnx", Optional.empty())).hex());
    }
}
