package dev.kvshare.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The files of a model directory: the ONNX decoder (named, or detected among the names public exporters
 * use, in the directory or its {@code onnx/} subfolder as transformers.js lays it out) and the optional
 * Hugging Face and ONNX Runtime GenAI config files beside it.
 */
public record ModelFiles(Path directory, Path onnxFile, Path tokenizer) {

    /** Export file names in order of preference: merged decoders before with-past-only ones. */
    private static final List<String> KNOWN_DECODER_FILES = List.of(
            "model.onnx", "decoder_model_merged.onnx", "decoder_with_past_model.onnx", "past.onnx");

    public static ModelFiles in(Path directory, String fileName, Optional<String> genaiFileName) {
        if (!Files.isDirectory(directory)) {
            throw new UnsupportedModelException("kvshare.model.path " + directory + " is not a directory");
        }
        Path tokenizer = directory.resolve("tokenizer.json");
        if (!Files.isRegularFile(tokenizer)) {
            throw new UnsupportedModelException("No tokenizer.json in " + directory);
        }
        return new ModelFiles(directory, onnxFile(directory, fileName, genaiFileName), tokenizer);
    }

    public Path tokenizerConfigJson() {
        return directory.resolve("tokenizer_config.json");
    }

    private static Path onnxFile(Path directory, String fileName, Optional<String> genaiFileName) {
        if (fileName != null && !fileName.isBlank()) {
            Path named = directory.resolve(fileName);
            if (!Files.isRegularFile(named)) {
                throw new UnsupportedModelException("kvshare.model.file " + named + " does not exist");
            }
            return named;
        }
        List<Path> folders = List.of(directory, directory.resolve("onnx"));
        Stream<String> candidates = Stream.concat(genaiFileName.stream(), KNOWN_DECODER_FILES.stream());
        return candidates
                .flatMap(name -> folders.stream().map(folder -> folder.resolve(name)))
                .filter(Files::isRegularFile)
                .findFirst()
                .or(() -> singleOnnxFile(directory))
                .orElseThrow(() -> new UnsupportedModelException("No ONNX decoder found in " + directory
                        + "; name it with kvshare.model.file"));
    }

    private static Optional<Path> singleOnnxFile(Path directory) {
        try (Stream<Path> files = Files.list(directory)) {
            List<Path> onnx = files.filter(f -> f.getFileName().toString().endsWith(".onnx")).toList();
            return onnx.size() == 1 ? Optional.of(onnx.get(0)) : Optional.empty();
        } catch (IOException e) {
            throw new UnsupportedModelException("Cannot list " + directory, e);
        }
    }
}
