package dev.kvshare.model;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A digest of every file of a model directory (weights, external data, tokenizer, configs) and of the name of
 * the decoder served from it: a new model version gets a new fingerprint, and so does each layout of one model
 * (onnx-community's directories hold {@code model.onnx}, {@code model_q4.onnx}, {@code model_fp16.onnx}, ...,
 * whose KV differ), so KV computed by another model or layout is never reused.
 */
public record ModelFingerprint(byte[] digest) {

    /**
     * The last fingerprint taken, with the name, size and modification time of every file it read: a process
     * that builds its prompt cache again over unchanged files (each application context the tests start) reuses
     * it instead of reading the weights again. One entry, so it holds no more than one model's 32 bytes.
     */
    private static volatile Taken last;

    private record FileStamp(Path file, long size, FileTime modified) {
    }

    private record Taken(Path served, List<FileStamp> files, ModelFingerprint fingerprint) {
    }

    /** The fingerprint of a directory served with the decoder {@link ModelFiles} detects there by default. */
    public static ModelFingerprint of(Path directory) {
        return of(ModelFiles.in(directory, null, Optional.empty()));
    }

    public static ModelFingerprint of(ModelFiles model) {
        Path directory = model.directory();
        try {
            Path served = model.onnxFile().toAbsolutePath();
            List<FileStamp> files = stampsOf(directory);
            Taken taken = last;
            if (taken != null && taken.served().equals(served) && taken.files().equals(files)) {
                return taken.fingerprint();
            }
            ModelFingerprint fingerprint = digestOf(model);
            last = new Taken(served, files, fingerprint);
            return fingerprint;
        } catch (IOException e) {
            throw new UnsupportedModelException("Cannot fingerprint the model in " + directory, e);
        }
    }

    private static List<FileStamp> stampsOf(Path directory) throws IOException {
        List<FileStamp> stamps = new ArrayList<>();
        for (Path file : filesOf(directory)) {
            stamps.add(new FileStamp(file.toAbsolutePath(), Files.size(file), Files.getLastModifiedTime(file)));
        }
        return stamps;
    }

    private static ModelFingerprint digestOf(ModelFiles model) {
        Path directory = model.directory();
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update("kvshare/model-fingerprint/v2".getBytes(StandardCharsets.UTF_8));
            byte[] served = directory.relativize(model.onnxFile()).toString().getBytes(StandardCharsets.UTF_8);
            sha.update(longBytes(served.length));
            sha.update(served);
            for (Path file : filesOf(directory)) {
                byte[] name = directory.relativize(file).toString().getBytes(StandardCharsets.UTF_8);
                sha.update(longBytes(name.length));
                sha.update(name);
                sha.update(longBytes(Files.size(file)));
                try (InputStream in = new DigestInputStream(Files.newInputStream(file), sha)) {
                    in.transferTo(OutputStream.nullOutputStream());
                }
            }
            return new ModelFingerprint(sha.digest());
        } catch (IOException | NoSuchAlgorithmException e) {
            throw new UnsupportedModelException("Cannot fingerprint the model in " + directory, e);
        }
    }

    public String hex() {
        return HexFormat.of().formatHex(digest);
    }

    @Override
    public byte[] digest() {
        return digest.clone();
    }

    private static List<Path> filesOf(Path directory) throws IOException {
        try (Stream<Path> files = Files.walk(directory, 2)) {
            return files.filter(Files::isRegularFile).sorted().toList();
        }
    }

    private static byte[] longBytes(long value) {
        return ByteBuffer.allocate(Long.BYTES).putLong(value).array();
    }
}
