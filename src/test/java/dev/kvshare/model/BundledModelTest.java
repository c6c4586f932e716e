package dev.kvshare.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bundled model is copied out of the jar once per build, not once per start. */
class BundledModelTest {

    @TempDir
    Path tmp;

    private List<Path> entries() throws IOException {
        try (Stream<Path> entries = Files.list(tmp)) {
            return entries.toList();
        }
    }

    @Test
    void everyStartReusesOneDirectoryNamedByTheModelsDigest() throws IOException {
        Path first = BundledModel.extractInto(tmp);
        Path second = BundledModel.extractInto(tmp);

        assertThat(second).isEqualTo(first);
        assertThat(first.getFileName().toString()).matches("kvshare-bundled-model-[0-9a-f]{16}");
        assertThat(entries()).containsExactly(first);
        assertThat(first.resolve("model.onnx")).isRegularFile();
        assertThat(first.resolve("tokenizer.json")).isRegularFile();
    }

    @Test
    void concurrentStartsEndWithOneCompleteDirectory() throws IOException {
        List<CompletableFuture<Path>> starts = IntStream.range(0, 4)
                .mapToObj(i -> CompletableFuture.supplyAsync(() -> BundledModel.extractInto(tmp))).toList();

        List<Path> directories = starts.stream().map(CompletableFuture::join).distinct().toList();

        assertThat(directories).hasSize(1);
        assertThat(entries()).containsExactlyElementsOf(directories);
        try (Stream<Path> files = Files.list(directories.get(0))) {
            assertThat(files.count()).isEqualTo(
                    new org.springframework.core.io.support.PathMatchingResourcePatternResolver()
                            .getResources(BundledModel.LOCATION).length);
        }
    }
}
