package dev.kvshare.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.kvshare.testsupport.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The error paths of a pass and of a model load free every native they made. */
class FailedPathsFreeNativesTest {

    @Test
    void anExtendWhosePassFailsMidwayFreesTheCachesBetweenPasses() throws Exception {
        // Two tokens per pass, so the prefix below runs as several passes, the last of which fails.
        try (ServedModel served = TestModels.load(TestModels.reference(TestModels.GPT2), 2)) {
            DecoderModel model = served.decoder();
            int outsideVocabulary = model.io().vocabSize() + 7;
            try (KvCache past = model.extend(new int[] {1, 2}, model.emptyCache())) {
                long before = model.liveTensors().count();

                assertThatThrownBy(() -> model.extend(new int[] {3, 4, 5, outsideVocabulary}, past))
                        .as("ONNX Runtime refuses an embedding index outside the vocabulary")
                        .isInstanceOf(InferenceException.class);

                assertThat(model.liveTensors().count()).isEqualTo(before);
                assertThat(past.isClosed()).as("the caller's past stays the caller's").isFalse();
            }
        }
    }

    @Test
    void aLoadThatFailsAfterTheSessionOpenedClosesTheSession(@TempDir Path directory) throws IOException {
        Path reference = TestModels.reference(TestModels.GPT2);
        try (Stream<Path> files = Files.list(reference)) {
            for (Path file : files.toList()) {
                Files.copy(file, directory.resolve(file.getFileName()));
            }
        }
        // The chat template is read after the decoder is made: a broken one fails the load late.
        Path tokenizerConfig = directory.resolve("tokenizer_config.json");
        Files.writeString(tokenizerConfig,
                Files.readString(tokenizerConfig).replaceFirst("\\{", "{\"chat_template\": \"{% if %}\","));
        List<OrtSession> opened = new ArrayList<>();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSessionFactory recording = new OrtSessionFactory(env) {
            @Override
            public OpenedSession open(Path onnxFile, ExecutionDevice device, int threads) throws OrtException {
                OpenedSession session = super.open(onnxFile, device, threads);
                opened.add(session.session());
                return session;
            }
        };
        ModelProperties properties = new ModelProperties(directory, null, null, "cpu", 0, 512, 0, false);

        assertThatThrownBy(() -> new ModelLoader(env, recording).load(directory, properties, "broken"))
                .isInstanceOf(UnsupportedModelException.class).hasMessageContaining("chat template");

        assertThat(opened).hasSize(1);
        assertThatThrownBy(opened.get(0)::getNumInputs).as("the session was closed")
                .isInstanceOf(IllegalStateException.class);
    }
}
