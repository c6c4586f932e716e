package dev.kvshare.model;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import org.springframework.core.io.Resource;
import org.springframework.core.io.support.PathMatchingResourcePatternResolver;

/**
 * The model shipped inside the application ({@code classpath:kvshare/bundled-model/}), served when
 * {@code kvshare.model.path} is unset. ONNX Runtime and the tokenizer read files, so it is copied out of
 * the jar into a temporary directory first.
 */
public final class BundledModel {

    static final String LOCATION = "classpath*:kvshare/bundled-model/*";
    public static final String NAME = "kvshare-support-tiny";

    private BundledModel() {
    }

    /** Copies the bundled model into a fresh temporary directory and returns it. */
    public static Path extract() {
        try {
            Resource[] files = new PathMatchingResourcePatternResolver().getResources(LOCATION);
            if (files.length == 0) {
                throw new UnsupportedModelException("No bundled model in this build: set kvshare.model.path");
            }
            Path directory = Files.createTempDirectory("kvshare-bundled-model");
            directory.toFile().deleteOnExit();
            for (Resource file : files) {
                Path target = directory.resolve(file.getFilename());
                try (InputStream in = file.getInputStream()) {
                    Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
                }
                target.toFile().deleteOnExit();
            }
            return directory;
        } catch (IOException e) {
            throw new UnsupportedModelException("Cannot extract the bundled model: " + e.getMessage(), e);
        }
    }
}
