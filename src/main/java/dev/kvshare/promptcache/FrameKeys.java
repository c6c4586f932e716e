package dev.kvshare.promptcache;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/**
 * The AES-256 keys of encrypted frames: {@code kvshare.prompt-cache.encryption-key} seals every new frame, and
 * it and every {@code decryption-keys} entry open frames (a key rotation reads the old key's frames until they
 * expire). A frame names its key by an 8-byte id, the first bytes of
 * {@code SHA-256("kvshare/frame-key-id/v1" ‖ key)}: it tells keys apart and reveals nothing of them.
 */
public final class FrameKeys {

    public static final int KEY_LENGTH = 32;
    public static final int ID_LENGTH = 8;

    private static final byte[] ID_DOMAIN = "kvshare/frame-key-id/v1".getBytes(StandardCharsets.US_ASCII);

    private final long sealingId;
    private final Map<Long, SecretKey> byId;

    private FrameKeys(byte[] sealing, List<byte[]> opening) {
        this.sealingId = idOf(sealing);
        Map<Long, SecretKey> keys = new LinkedHashMap<>();
        keys.put(sealingId, aes(sealing));
        opening.forEach(key -> keys.putIfAbsent(idOf(key), aes(key)));
        this.byId = Map.copyOf(keys);
    }

    /** Raw 32-byte keys: {@code sealing} writes and reads, {@code opening} only read. */
    public static FrameKeys of(byte[] sealing, List<byte[]> opening) {
        checkLength(sealing.length, "encryption key");
        opening.forEach(key -> checkLength(key.length, "decryption key"));
        return new FrameKeys(sealing, opening);
    }

    /**
     * The keys as configured, each 32 bytes written as 64 hex digits or in base64 (standard or URL-safe); empty
     * when no encryption key is set.
     *
     * @throws IllegalArgumentException naming the property, for a key of another form or length, or for
     *                                  decryption keys without an encryption key
     */
    public static Optional<FrameKeys> parse(String encryptionKey, List<String> decryptionKeys) {
        List<String> old = decryptionKeys == null ? List.of() : decryptionKeys;
        if (encryptionKey == null || encryptionKey.isBlank()) {
            if (!old.isEmpty()) {
                throw new IllegalArgumentException("kvshare.prompt-cache.decryption-keys is set but "
                        + "kvshare.prompt-cache.encryption-key is not: frames are only read encrypted when they are "
                        + "also written encrypted");
            }
            return Optional.empty();
        }
        byte[] sealing = decode(encryptionKey, "kvshare.prompt-cache.encryption-key");
        List<byte[]> opening = old.stream().map(key -> decode(key, "kvshare.prompt-cache.decryption-keys")).toList();
        return Optional.of(new FrameKeys(sealing, opening));
    }

    /** The id new frames carry. */
    long sealingId() {
        return sealingId;
    }

    SecretKey sealingKey() {
        return byId.get(sealingId);
    }

    /** The key with this id, if this replica holds it. */
    Optional<SecretKey> key(long id) {
        return Optional.ofNullable(byId.get(id));
    }

    /** How many distinct keys open frames. */
    public int readableKeys() {
        return byId.size();
    }

    static long idOf(byte[] key) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            digest.update(ID_DOMAIN);
            return ByteBuffer.wrap(digest.digest(key)).getLong();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    private static byte[] decode(String text, String property) {
        String key = text.strip();
        byte[] bytes;
        if (key.length() % 2 == 0 && key.chars().allMatch(c -> Character.digit(c, 16) >= 0)) { // never base64 of 32 bytes
            bytes = HexFormat.of().parseHex(key);
        } else {
            try {
                bytes = (key.indexOf('-') >= 0 || key.indexOf('_') >= 0 ? Base64.getUrlDecoder() : Base64.getDecoder())
                        .decode(key);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(property + " must be 32 bytes written as 64 hex digits or in "
                        + "base64 (e.g. `openssl rand -base64 32`); the value given is neither", e);
            }
        }
        if (bytes.length != KEY_LENGTH) {
            throw new IllegalArgumentException(property + " must be 32 bytes (AES-256), written as 64 hex digits or "
                    + "in base64 (e.g. `openssl rand -base64 32`); the value given is " + bytes.length + " bytes");
        }
        return bytes;
    }

    private static void checkLength(int length, String what) {
        if (length != KEY_LENGTH) {
            throw new IllegalArgumentException("an " + what + " has " + KEY_LENGTH + " bytes, not " + length);
        }
    }

    private static SecretKey aes(byte[] key) {
        return new SecretKeySpec(key, "AES");
    }
}
