package dev.kvshare.promptcache;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Optional;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;

/**
 * The AES-256-GCM envelope of an encrypted frame, format version {@value #FORMAT_VERSION}: a clear header that
 * says which model and which key, then a format-1 frame (see {@link KvCodec}, unsigned: GCM authenticates)
 * encrypted whole, so that neither the block's token ids nor its KV can be read from Redis.
 *
 * <table>
 * <caption>Encrypted frame, format version 2</caption>
 * <tr><th>Offset</th><th>Bytes</th><th>Field</th></tr>
 * <tr><td>0</td><td>4</td><td>magic {@code "KVSH"}</td></tr>
 * <tr><td>4</td><td>2</td><td>format version, u16 = 2</td></tr>
 * <tr><td>6</td><td>2</td><td>flags, u16 = 0</td></tr>
 * <tr><td>8</td><td>32</td><td>model fingerprint</td></tr>
 * <tr><td>40</td><td>8</td><td>key id (see {@link FrameKeys})</td></tr>
 * <tr><td>48</td><td>12</td><td>nonce, random per frame</td></tr>
 * <tr><td>60</td><td>L</td><td>ciphertext of the format-1 frame (L = its length)</td></tr>
 * <tr><td>60 + L</td><td>16</td><td>GCM tag</td></tr>
 * </table>
 *
 * <p>The additional authenticated data is the clear header followed by the block hash the frame is stored
 * under (its Redis key): a frame copied under another block's key, or another model's, fails the tag.
 * Thread-safe.
 */
final class FrameEncryption {

    static final int FORMAT_VERSION = 2;
    static final int HEADER_LENGTH = 60;
    static final int TAG_LENGTH = 16;

    private static final int FINGERPRINT_OFFSET = 8;
    private static final int KEY_ID_OFFSET = 40;
    private static final int NONCE_OFFSET = 48;
    private static final int NONCE_LENGTH = 12;
    private static final String TRANSFORMATION = "AES/GCM/NoPadding";

    private final byte[] modelFingerprint;
    private final FrameKeys keys;
    private final SecureRandom random = new SecureRandom();

    FrameEncryption(byte[] modelFingerprint, FrameKeys keys) {
        this.modelFingerprint = modelFingerprint.clone();
        this.keys = keys;
    }

    static int sealedLength(int plainLength) {
        return HEADER_LENGTH + plainLength + TAG_LENGTH;
    }

    /** Encrypts a format-1 frame for the block {@code hash} under the sealing key. */
    byte[] seal(byte[] plain, BlockHash hash) {
        byte[] nonce = new byte[NONCE_LENGTH];
        random.nextBytes(nonce);
        byte[] sealed = new byte[sealedLength(plain.length)];
        ByteBuffer.wrap(sealed).put(KvCodec.MAGIC).putShort((short) FORMAT_VERSION).putShort((short) 0)
                .put(modelFingerprint).putLong(keys.sealingId()).put(nonce);
        try {
            Cipher cipher = cipher(Cipher.ENCRYPT_MODE, keys.sealingKey(), sealed, hash);
            cipher.doFinal(plain, 0, plain.length, sealed, HEADER_LENGTH);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every Java runtime has " + TRANSFORMATION, e);
        }
        return sealed;
    }

    /**
     * The format-1 frame inside {@code frame}, read under {@code hash}'s key, or why it cannot be opened.
     *
     * @param plainLength the length every format-1 frame of this model has
     */
    Opened open(byte[] frame, int plainLength, BlockHash hash) {
        if (frame.length < KvCodec.MAGIC.length) {
            return new Opened.Rejected(RejectReason.TRUNCATED);
        }
        if (!Arrays.equals(frame, 0, KvCodec.MAGIC.length, KvCodec.MAGIC, 0, KvCodec.MAGIC.length)) {
            return new Opened.Rejected(RejectReason.MAGIC);
        }
        if (frame.length < HEADER_LENGTH) {
            return new Opened.Rejected(RejectReason.TRUNCATED);
        }
        ByteBuffer header = ByteBuffer.wrap(frame, 0, HEADER_LENGTH);
        if (header.getShort(4) != FORMAT_VERSION || header.getShort(6) != 0) {
            return new Opened.Rejected(RejectReason.VERSION);
        }
        if (!Arrays.equals(frame, FINGERPRINT_OFFSET, KEY_ID_OFFSET, modelFingerprint, 0, modelFingerprint.length)) {
            return new Opened.Rejected(RejectReason.FINGERPRINT);
        }
        Optional<SecretKey> key = keys.key(header.getLong(KEY_ID_OFFSET));
        if (key.isEmpty()) {
            return new Opened.Rejected(RejectReason.UNKNOWN_KEY);
        }
        int expected = sealedLength(plainLength);
        if (frame.length != expected) {
            return new Opened.Rejected(frame.length < expected ? RejectReason.TRUNCATED : RejectReason.OVERSIZE);
        }
        byte[] plain = new byte[plainLength];
        try {
            Cipher cipher = cipher(Cipher.DECRYPT_MODE, key.get(), frame, hash);
            cipher.doFinal(frame, HEADER_LENGTH, frame.length - HEADER_LENGTH, plain, 0);
        } catch (AEADBadTagException e) {
            return new Opened.Rejected(RejectReason.DECRYPTION);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every Java runtime has " + TRANSFORMATION, e);
        }
        return new Opened.Plain(plain);
    }

    /** A cipher for the frame whose header {@code frame} starts with, bound to the block {@code hash}. */
    private static Cipher cipher(int mode, SecretKey key, byte[] frame, BlockHash hash)
            throws GeneralSecurityException {
        Cipher cipher = Cipher.getInstance(TRANSFORMATION);
        cipher.init(mode, key, new GCMParameterSpec(8 * TAG_LENGTH, frame, NONCE_OFFSET, NONCE_LENGTH));
        cipher.updateAAD(frame, 0, HEADER_LENGTH);
        cipher.updateAAD(hash.bytes());
        return cipher;
    }

    /** The outcome of {@link #open}: the format-1 frame, or why the frame is a miss. */
    sealed interface Opened {

        record Plain(byte[] frame) implements Opened {
        }

        record Rejected(RejectReason reason) implements Opened {
        }
    }
}
