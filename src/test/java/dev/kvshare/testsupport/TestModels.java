package dev.kvshare.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;

import ai.onnxruntime.OrtEnvironment;
import dev.kvshare.model.BundledModel;
import dev.kvshare.model.ModelLoader;
import dev.kvshare.model.ModelProperties;
import dev.kvshare.model.ServedModel;

/** The reference exports in {@code ../shared/models} (see its README) and loading them for a test. */
public final class TestModels {

    public static final String GPT2 = "tiny-random-gpt2-fp32";
    public static final String LLAMA = "tiny-random-llama-fp16";
    /** The model bundled with the service. */
    public static final String BUNDLED = BundledModel.NAME;

    private TestModels() {
    }

    public static Path shared(String name) {
        Path directory = Path.of(System.getProperty("kvshare.shared-models", "../shared/models")).resolve(name);
        assertThat(directory).as("reference model directory (../shared/models)").isDirectory();
        return directory.toAbsolutePath();
    }

    /** A reference export by name, the bundled model, or a model directory given as a path. */
    public static ServedModel load(String name) {
        Path directory = name.equals(BUNDLED) ? BundledModel.extract()
                : name.contains("/") ? Path.of(name) : shared(name);
        return load(directory, 512);
    }

    public static ServedModel load(Path directory, int prefillChunk) {
        ModelProperties properties = new ModelProperties(directory, null, null, "cpu", 0, prefillChunk, 0, false);
        return new ModelLoader(OrtEnvironment.getEnvironment()).load(directory, properties,
                directory.getFileName().toString());
    }

}
