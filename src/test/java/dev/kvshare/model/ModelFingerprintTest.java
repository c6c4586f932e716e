package dev.kvshare.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Optional;

import dev.kvshare.testsupport.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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

    /** A fingerprint is reused only while the files are unchanged: a file rewritten in place gets a new one. */
    @Test
    void aFileChangedAfterAFingerprintChangesTheFingerprint(@TempDir Path directory) throws IOException {
        Files.writeString(directory.resolve("tokenizer.json"), "{}");
        Path weights = Files.writeString(directory.resolve("model.onnx"), "weights, version 1");
        FileTime written = Files.getLastModifiedTime(weights);
        String first = ModelFingerprint.of(directory).hex();
        assertThat(ModelFingerprint.of(directory).hex()).isEqualTo(first);

        Files.writeString(weights, "weights, version 2"); // same size
        Files.setLastModifiedTime(weights, FileTime.fromMillis(written.toMillis() + 1000));
        assertThat(ModelFingerprint.of(directory).hex()).isNotEqualTo(first);
    }
}
