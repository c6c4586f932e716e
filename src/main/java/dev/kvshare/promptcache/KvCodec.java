package dev.kvshare.promptcache;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;
import java.util.zip.CRC32C;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import ai.onnxruntime.OnnxJavaType;
import dev.kvshare.model.KvLayout;
import dev.kvshare.model.KvSpec;

/**
 * The versioned binary frame a {@link KvBlock} is stored as in Redis (docs/prompt-cache.md, "Keys and frames").
 *
 * <p>Integers are big-endian; {@code n} = block length in tokens, {@code P} = payload bytes
 * = 2 × layers × kv_heads × n × head_dim × dtype size.
 * <table>
 * <caption>Frame layout, format version 1</caption>
 * <tr><th>Offset</th><th>Bytes</th><th>Field</th></tr>
 * <tr><td>0</td><td>4</td><td>magic {@code "KVSH"} (ASCII)</td></tr>
 * <tr><td>4</td><td>2</td><td>format version, u16 = {@value #FORMAT_VERSION}</td></tr>
 * <tr><td>6</td><td>2</td><td>flags, u16: bit 0 = HMAC trailer present; other bits 0</td></tr>
 * <tr><td>8</td><td>32</td><td>model fingerprint</td></tr>
 * <tr><td>40</td><td>1</td><td>KV layout: 0 = split, 1 = stacked</td></tr>
 * <tr><td>41</td><td>1</td><td>dtype, ONNX TensorProto code: 1 = float32, 10 = float16, 16 = bfloat16</td></tr>
 * <tr><td>42</td><td>4</td><td>layers, u32</td></tr>
 * <tr><td>46</td><td>4</td><td>KV heads, u32</td></tr>
 * <tr><td>50</td><td>4</td><td>head dim, u32</td></tr>
 * <tr><td>54</td><td>4</td><td>block length n, u32</td></tr>
 * <tr><td>58</td><td>32</td><td>the block's hash</td></tr>
 * <tr><td>90</td><td>32</td><td>the parent hash (the chain seed for block 0)</td></tr>
 * <tr><td>122</td><td>4n</td><td>token ids, int32</td></tr>
 * <tr><td>122 + 4n</td><td>P</td><td>payload: per layer key then value, each [kv_heads, n, head_dim],
 *     row-major, little-endian elements</td></tr>
 * <tr><td>122 + 4n + P</td><td>4</td><td>CRC32C of bytes [0, 122 + 4n + P)</td></tr>
 * <tr><td>126 + 4n + P</td><td>32</td><td>only if flag bit 0: HMAC-SHA256 of bytes [0, 126 + 4n + P)</td></tr>
 * </table>
 *
 * <p>No compression: KV activations are high-entropy floats that general-purpose compressors shrink
 * by a few percent at best, for a CPU cost on both sides of every hit.
 *
 * <p>Decoding checks, in order: the fixed-size header fields at fixed offsets (magic, version, flags,
 * HMAC presence, fingerprint, shape), which determine the exact frame size; then the size itself
 * (TRUNCATED / OVERSIZE), so no length is used before it matched; then the CRC32C, then the HMAC, and
 * only then the block's identity (hash, parent, token ids). Thread-safe.
 *
 * <p>With an HMAC key configured, unsigned frames are rejected. Without one, signed frames are accepted
 * unverified, so readers can be given the key after the writers during a rollout.
 *
 * <p>With encryption keys ({@code kvshare.prompt-cache.encryption-key}) every frame is an unsigned format-1
 * frame sealed in a {@link FrameEncryption} envelope (format version 2, stored under {@code kvshare:v2:} keys),
 * and only such frames are read: the envelope is opened first, then the frame inside is checked as above.
 */
public final class KvCodec {

    public static final int FORMAT_VERSION = 1;
    public static final int FINGERPRINT_LENGTH = 32;

    static final byte[] MAGIC = {'K', 'V', 'S', 'H'};
    private static final int FLAG_HMAC = 1;
    private static final int SHAPE_OFFSET = 40;
    private static final int HASH_OFFSET = 58;
    private static final int HEADER_LENGTH = 122;
    private static final int CRC_LENGTH = 4;
    private static final int HMAC_LENGTH = 32;
    private static final String HMAC_ALGORITHM = "HmacSHA256";

    private final byte[] modelFingerprint;
    private final KvSpec spec;
    private final int blockSize;
    private final Optional<SecretKeySpec> hmacKey;
    private final Optional<FrameEncryption> encryption;
    private final byte[] expectedShape;
    private final int payloadLength;
    private final int unsignedLength;

    /** A codec of format-1 frames, signed with {@code hmacKey} when one is given. */
    public KvCodec(byte[] modelFingerprint, KvSpec spec, int blockSize, Optional<byte[]> hmacKey) {
        this(modelFingerprint, spec, blockSize, hmacKey, Optional.empty());
    }

    /** A codec of encrypted frames (format version 2): sealed with {@code keys}' encryption key. */
    public KvCodec(byte[] modelFingerprint, KvSpec spec, int blockSize, FrameKeys keys) {
        this(modelFingerprint, spec, blockSize, Optional.empty(), Optional.of(keys));
    }

    private KvCodec(byte[] modelFingerprint, KvSpec spec, int blockSize, Optional<byte[]> hmacKey,
                    Optional<FrameKeys> keys) {
        if (Objects.requireNonNull(modelFingerprint, "modelFingerprint").length != FINGERPRINT_LENGTH) {
            throw new IllegalArgumentException("the model fingerprint must have " + FINGERPRINT_LENGTH + " bytes");
        }
        if (blockSize < 1) {
            throw new IllegalArgumentException("block size must be positive: " + blockSize);
        }
        this.modelFingerprint = modelFingerprint.clone();
        this.spec = Objects.requireNonNull(spec, "spec");
        this.blockSize = blockSize;
        this.hmacKey = hmacKey.map(key -> new SecretKeySpec(key, HMAC_ALGORITHM));
        this.encryption = keys.map(k -> new FrameEncryption(modelFingerprint, k));
        this.expectedShape = shape(spec, blockSize);
        long payload = KvBlock.payloadLength(spec, blockSize);
        long unsigned = HEADER_LENGTH + 4L * blockSize + payload + CRC_LENGTH;
        // The longest form, encrypted, adds more than an HMAC does.
        long longest = unsigned + FrameEncryption.HEADER_LENGTH + FrameEncryption.TAG_LENGTH;
        if (longest > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("a frame of " + longest + " bytes does not fit a Java array");
        }
        this.payloadLength = (int) payload;
        this.unsignedLength = (int) unsigned;
    }

    /** The format version of the frames this codec writes and reads: 1, or 2 when they are encrypted. */
    public int formatVersion() {
        return encryption.isPresent() ? FrameEncryption.FORMAT_VERSION : FORMAT_VERSION;
    }

    /**
     * The longest frame any replica of this model may write in this codec's format: a signed one, or an
     * encrypted one. Longer values are never read.
     */
    public int maxFrameLength() {
        return encryption.isPresent() ? FrameEncryption.sealedLength(unsignedLength) : unsignedLength + HMAC_LENGTH;
    }

    /** Frames this codec writes and accepts are exactly this long. */
    public int frameLength() {
        return encryption.isPresent() ? FrameEncryption.sealedLength(unsignedLength) : plainLength();
    }

    /** The format-1 frame: what is stored, or what is encrypted. */
    private int plainLength() {
        return unsignedLength + (hmacKey.isPresent() ? HMAC_LENGTH : 0);
    }

    public byte[] encode(KvBlock block) {
        if (block.tokenIds().length != blockSize || block.payloadLength() != payloadLength) {
            throw new IllegalArgumentException("block does not match the codec's shape: " + block + ", expected "
                    + blockSize + " tokens and " + payloadLength + " payload bytes");
        }
        ByteBuffer frame = ByteBuffer.allocate(plainLength());
        frame.put(MAGIC).putShort((short) FORMAT_VERSION).putShort((short) (hmacKey.isPresent() ? FLAG_HMAC : 0))
                .put(modelFingerprint).put(expectedShape).put(block.hash().bytes()).put(block.parent().bytes());
        for (int id : block.tokenIds()) {
            frame.putInt(id);
        }
        frame.put(block.payload());
        frame.putInt(crc32c(frame.array(), frame.position()));
        hmacKey.ifPresent(key -> frame.put(hmac(key, frame.array(), frame.position())));
        return encryption.isPresent() ? encryption.get().seal(frame.array(), block.hash()) : frame.array();
    }

    /**
     * Checks a frame read under {@code expectedHash}'s key. An accepted block's payload is a view of
     * {@code stored} (no copy of megabytes; of its decrypted copy when encrypted): do not modify the array
     * afterwards.
     */
    public Decoded decode(byte[] stored, BlockHash expectedHash, BlockHash expectedParent, int[] expectedTokenIds) {
        if (expectedTokenIds.length != blockSize) {
            throw new IllegalArgumentException("expected " + blockSize + " token ids, got " + expectedTokenIds.length);
        }
        byte[] frame = stored;
        if (encryption.isPresent()) {
            FrameEncryption.Opened opened = encryption.get().open(stored, unsignedLength, expectedHash);
            if (opened instanceof FrameEncryption.Opened.Rejected rejected) {
                return new Decoded.Rejected(rejected.reason());
            }
            frame = ((FrameEncryption.Opened.Plain) opened).frame();
        }
        RejectReason header = checkHeader(frame);
        if (header != null) {
            return new Decoded.Rejected(header);
        }
        boolean signed = (u16(frame, 6) & FLAG_HMAC) != 0;
        int expectedLength = unsignedLength + (signed ? HMAC_LENGTH : 0);
        if (frame.length != expectedLength) {
            return new Decoded.Rejected(frame.length < expectedLength ? RejectReason.TRUNCATED : RejectReason.OVERSIZE);
        }
        int crcOffset = unsignedLength - CRC_LENGTH;
        if (ByteBuffer.wrap(frame, crcOffset, CRC_LENGTH).getInt() != crc32c(frame, crcOffset)) {
            return new Decoded.Rejected(RejectReason.CHECKSUM);
        }
        if (hmacKey.isPresent() && !MessageDigest.isEqual(hmac(hmacKey.get(), frame, unsignedLength),
                Arrays.copyOfRange(frame, unsignedLength, expectedLength))) {
            return new Decoded.Rejected(RejectReason.HMAC_MISMATCH);
        }
        ByteBuffer body = ByteBuffer.wrap(frame, HASH_OFFSET, frame.length - HASH_OFFSET);
        BlockHash hash = new BlockHash(next(body, BlockHash.LENGTH));
        BlockHash parent = new BlockHash(next(body, BlockHash.LENGTH));
        int[] tokenIds = new int[blockSize];
        body.asIntBuffer().get(tokenIds);
        if (!hash.equals(expectedHash)) {
            return new Decoded.Rejected(RejectReason.HASH);
        }
        if (!parent.equals(expectedParent)) {
            return new Decoded.Rejected(RejectReason.PARENT);
        }
        if (!Arrays.equals(tokenIds, expectedTokenIds)) {
            return new Decoded.Rejected(RejectReason.TOKENS);
        }
        ByteBuffer payload = ByteBuffer.wrap(frame, HEADER_LENGTH + 4 * blockSize, payloadLength);
        return new Decoded.Accepted(new KvBlock(hash, parent, tokenIds, payload));
    }

    /** The checks that need only the fixed-size header; null when it is this codec's. */
    private RejectReason checkHeader(byte[] frame) {
        if (frame.length < MAGIC.length) {
            return RejectReason.TRUNCATED;
        }
        if (!Arrays.equals(frame, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            return RejectReason.MAGIC;
        }
        if (frame.length < HEADER_LENGTH) {
            return RejectReason.TRUNCATED;
        }
        int flags = u16(frame, 6);
        if (u16(frame, 4) != FORMAT_VERSION || (flags & ~FLAG_HMAC) != 0) {
            return RejectReason.VERSION;
        }
        if (hmacKey.isPresent() && (flags & FLAG_HMAC) == 0) {
            return RejectReason.HMAC_MISSING;
        }
        if (!Arrays.equals(frame, 8, SHAPE_OFFSET, modelFingerprint, 0, FINGERPRINT_LENGTH)) {
            return RejectReason.FINGERPRINT;
        }
        if (!Arrays.equals(frame, SHAPE_OFFSET, HASH_OFFSET, expectedShape, 0, expectedShape.length)) {
            return RejectReason.SHAPE;
        }
        return null;
    }

    /** Bytes [40, 58): layout, dtype, layers, KV heads, head dim, block length. */
    private static byte[] shape(KvSpec spec, int blockSize) {
        return ByteBuffer.allocate(HASH_OFFSET - SHAPE_OFFSET)
                .put((byte) (spec.layout() == KvLayout.SPLIT ? 0 : 1))
                .put(onnxDataType(spec.dtype()))
                .putInt(spec.layers()).putInt(spec.kvHeads()).putInt(spec.headDim()).putInt(blockSize)
                .array();
    }

    /** ONNX TensorProto.DataType codes: stable across languages, unlike OnnxJavaType's ordinals. */
    private static byte onnxDataType(OnnxJavaType dtype) {
        return switch (dtype) {
            case FLOAT -> 1;
            case FLOAT16 -> 10;
            case BFLOAT16 -> 16;
            default -> throw new IllegalArgumentException("no KV cache in " + dtype);
        };
    }

    private static int u16(byte[] frame, int offset) {
        return ByteBuffer.wrap(frame, offset, 2).getShort() & 0xFFFF;
    }

    private static byte[] next(ByteBuffer buffer, int length) {
        byte[] bytes = new byte[length];
        buffer.get(bytes);
        return bytes;
    }

    private static int crc32c(byte[] bytes, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, length);
        return (int) crc.getValue();
    }

    private static byte[] hmac(SecretKeySpec key, byte[] bytes, int length) {
        try {
            Mac mac = Mac.getInstance(HMAC_ALGORITHM);
            mac.init(key);
            mac.update(bytes, 0, length);
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every Java runtime has " + HMAC_ALGORITHM, e);
        }
    }

    /** The outcome of {@link #decode}: the block, or why the frame is a miss. */
    public sealed interface Decoded {

        record Accepted(KvBlock block) implements Decoded {
        }

        record Rejected(RejectReason reason) implements Decoded {
        }
    }
}
