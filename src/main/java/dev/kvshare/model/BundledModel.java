package dev.kvshare.model;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.stream.Stream;

import org.springframework.core.io.Resource;
import org.springframework.core.io.support.PathMatchingResourcePatternResolver;

/**
 * The model shipped inside the application ({@code classpath:kvshare/bundled-model/}), served when
 * {@code kvshare.model.path} is unset. ONNX Runtime and the tokenizer read files, so it is copied out of the
 * jar once, into {@code ${java.io.tmpdir}/kvshare-bundled-model-<digest>}: every start of the same build
 * reuses that directory instead of leaving a new copy behind, and a new build gets its own.
 */
public final class BundledModel {

    static final String LOCATION = "classpath*:kvshare/bundled-model/*";
    public static final String NAME = "kvshare-support-tiny";

    /**
     * The directory found by this process's first {@link #extract()}: the classpath's files do not change while
     * the process runs, so later calls (an application context started again, as the tests do dozens of times)
     * skip hashing 17 MB of resources, unless the directory has been removed meanwhile.
     */
    private static volatile Path extracted;

    private BundledModel() {
    }

    /** The directory holding the bundled model's files, extracting them if no earlier start did. */
    public static Path extract() {
        Path directory = extracted;
        if (directory == null || !Files.isDirectory(directory)) {
            directory = extractInto(Path.of(System.getProperty("java.io.tmpdir")));
            extracted = directory;
        }
        return directory;
    }

    static Path extractInto(Path parent) {
        try {
            Resource[] files = new PathMatchingResourcePatternResolver().getResources(LOCATION);
            if (files.length == 0) {
                throw new UnsupportedModelException("No bundled model in this build: set kvshare.model.path");
            }
            Arrays.sort(files, Comparator.comparing(Resource::getFilename));
            Path target = parent.resolve("kvshare-bundled-model-" + digest(files));
            if (Files.isDirectory(target)) {
                return target;
            }
            // Written aside and moved into place in one step: a directory under the final name is complete,
            // whichever of several concurrent starts wrote it.
            Path partial = Files.createTempDirectory(parent, "kvshare-bundled-model-partial");
            for (Resource file : files) {
                try (InputStream in = file.getInputStream()) {
                    Files.copy(in, partial.resolve(file.getFilename()), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            try {
                Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException moveFailed) {
                deleteRecursively(partial);
                if (!Files.isDirectory(target)) {
                    throw moveFailed;
                } // else another start moved its copy into place first
            }
            return target;
        } catch (IOException e) {
            throw new UnsupportedModelException("Cannot extract the bundled model: " + e.getMessage(), e);
        }
    }

    /** SHA-256 over the files' names and contents, shortened: which build's model this is. */
    private static String digest(Resource[] files) throws IOException {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (Resource file : files) {
                sha.update(file.getFilename().getBytes(StandardCharsets.UTF_8));
                try (InputStream in = file.getInputStream()) {
                    byte[] buffer = new byte[1 << 16];
                    for (int n; (n = in.read(buffer)) > 0; ) {
                        sha.update(buffer, 0, n);
                    }
                }
            }
            return HexFormat.of().formatHex(sha.digest(), 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    private static void deleteRecursively(Path directory) throws IOException {
        try (Stream<Path> paths = Files.walk(directory)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> {
                try {
                    Files.delete(path);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
