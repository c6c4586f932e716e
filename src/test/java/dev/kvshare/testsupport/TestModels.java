package dev.kvshare.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;

import ai.onnxruntime.OrtEnvironment;
import dev.kvshare.model.BundledModel;
import dev.kvshare.model.ModelLoader;
import dev.kvshare.model.ModelProperties;
import dev.kvshare.model.ServedModel;

/**
 * The reference exports in {@code src/test/resources/models} (provenance and licence in its README) and loading
 * them for a test. They are read from the test classpath, which Maven copies to {@code target/test-classes}: a
 * plain directory, so an export's external data ({@code model.onnx.data}) lies beside its {@code model.onnx}.
 */
public final class TestModels {

    public static final String GPT2 = "tiny-random-gpt2-fp32";
    public static final String LLAMA = "tiny-random-llama-fp16";
    /** The model bundled with the service. */
    public static final String BUNDLED = BundledModel.NAME;

    private TestModels() {
    }

    public static Path reference(String name) {
        URL url = TestModels.class.getResource("/models/" + name);
        assertThat(url).as("reference model %s on the test classpath (src/test/resources/models)", name).isNotNull();
        assertThat(url.getProtocol()).as("reference model %s must be a directory on disk", name).isEqualTo("file");
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(url.toString(), e);
        }
    }

    /** A reference export by name, the bundled model, or a model directory given as a path. */
    public static ServedModel load(String name) {
        Path directory = name.equals(BUNDLED) ? BundledModel.extract()
                : name.contains("/") ? Path.of(name) : reference(name);
        return load(directory, 512);
    }

    public static ServedModel load(Path directory, int prefillChunk) {
        return load(directory, null, prefillChunk);
    }

    /** One of the exports in a reference folder by file name: {@code model_q4.onnx} beside the fp32 one, say. */
    public static ServedModel load(String name, String file) {
        return load(reference(name), file, 512);
    }

    private static ServedModel load(Path directory, String file, int prefillChunk) {
        // One intra-op thread: the test models are tiny, and the test JVMs share the machine's cores.
        return load(directory, file, 1, prefillChunk);
    }

    /**
     * A model directory's export ({@code file}, or the one detected when null) on {@code threads} intra-op threads
     * (0: one per core), in prefill passes of at most {@code prefillChunk} tokens.
     */
    public static ServedModel load(Path directory, String file, int threads, int prefillChunk) {
        ModelProperties properties = new ModelProperties(directory, file, null, "cpu", threads, prefillChunk, 0, false);
        return new ModelLoader(OrtEnvironment.getEnvironment()).load(directory, properties,
                directory.getFileName().toString());
    }

}
