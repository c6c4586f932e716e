package dev.kvshare.promptcache;

import static dev.kvshare.promptcache.DecodedFrames.accepted;
import static dev.kvshare.promptcache.DecodedFrames.flip;
import static dev.kvshare.promptcache.DecodedFrames.rejected;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Optional;
import java.util.Random;
import java.util.zip.CRC32C;

import ai.onnxruntime.OnnxJavaType;
import dev.kvshare.model.KvLayout;
import dev.kvshare.model.KvSpec;
import dev.kvshare.promptcache.KvCodec.Decoded;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class KvCodecTest {

    private static final int BLOCK = 8;
    private static final KvSpec SPEC = new KvSpec(KvLayout.SPLIT, 2, 2, 4, OnnxJavaType.FLOAT16);
    private static final byte[] FINGERPRINT = PrefixHasherTest.sha256("model".getBytes());
    private static final byte[] KEY = "secret-key".getBytes();

    private static final int HEADER = 122;
    private static final int TOKENS_AT = HEADER;
    private static final int PAYLOAD_AT = HEADER + 4 * BLOCK;

    private final KvCodec codec = new KvCodec(FINGERPRINT, SPEC, BLOCK, Optional.empty());
    private final KvBlock block = TestBlocks.random(SPEC, BLOCK, 1);

    @ParameterizedTest
    @EnumSource(KvLayout.class)
    void roundTripsFloat32AndFloat16InBothLayouts(KvLayout layout) {
        for (OnnxJavaType dtype : new OnnxJavaType[] {OnnxJavaType.FLOAT, OnnxJavaType.FLOAT16, OnnxJavaType.BFLOAT16}) {
            KvSpec spec = new KvSpec(layout, 3, 2, 8, dtype);
            KvCodec codec = new KvCodec(FINGERPRINT, spec, 16, Optional.empty());
            KvBlock original = TestBlocks.random(spec, 16, dtype.ordinal());

            byte[] frame = codec.encode(original);

            assertThat(frame).hasSize(codec.frameLength())
                    .hasSize(122 + 4 * 16 + 2 * 3 * 2 * 16 * 8 * dtype.size + 4);
            KvBlock decoded = accepted(codec.decode(frame, original.hash(), original.parent(), original.tokenIds()));
            assertThat(decoded).isEqualTo(original);
            assertThat(decoded.payload().order()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
        }
    }

    @Test
    void headerFieldsSitWhereTheJavadocTableSays() {
        ByteBuffer frame = ByteBuffer.wrap(codec.encode(block));
        assertThat(new String(frame.array(), 0, 4)).isEqualTo("KVSH");
        assertThat(frame.getShort(4)).isEqualTo((short) KvCodec.FORMAT_VERSION);
        assertThat(frame.getShort(6)).isZero();
        assertThat(Arrays.copyOfRange(frame.array(), 8, 40)).isEqualTo(FINGERPRINT);
        assertThat(frame.get(40)).isZero();
        assertThat(frame.get(41)).isEqualTo((byte) 10);
        assertThat(new int[] {frame.getInt(42), frame.getInt(46), frame.getInt(50), frame.getInt(54)})
                .containsExactly(2, 2, 4, BLOCK);
        assertThat(Arrays.copyOfRange(frame.array(), 58, 90)).isEqualTo(block.hash().bytes());
        assertThat(Arrays.copyOfRange(frame.array(), 90, 122)).isEqualTo(block.parent().bytes());
        assertThat(frame.getInt(TOKENS_AT)).isEqualTo(block.tokenIds()[0]);
        assertThat(frame.slice(PAYLOAD_AT, block.payloadLength())).isEqualTo(block.payload());
        CRC32C crc = new CRC32C();
        crc.update(frame.array(), 0, frame.capacity() - 4);
        assertThat(frame.getInt(frame.capacity() - 4)).isEqualTo((int) crc.getValue());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 3, 4, 7, 60, 121, 122, 153, 154, 400, 665, 669})
    void truncatedFramesAreRejected(int length) {
        byte[] frame = codec.encode(block);
        assertThat(frame).hasSize(HEADER + 4 * BLOCK + 2 * 2 * 2 * BLOCK * 4 * 2 + 4).hasSize(670);
        assertThat(reason(Arrays.copyOf(frame, length))).isEqualTo(RejectReason.TRUNCATED);
    }

    @Test
    void oversizeFramesAreRejected() {
        byte[] frame = codec.encode(block);
        assertThat(reason(Arrays.copyOf(frame, frame.length + 1))).isEqualTo(RejectReason.OVERSIZE);
        assertThat(reason(Arrays.copyOf(frame, frame.length + 32))).isEqualTo(RejectReason.OVERSIZE);
    }

    @Test
    void wrongMagicAndVersionAreRejected() {
        assertThat(reason(flip(codec.encode(block), 0))).isEqualTo(RejectReason.MAGIC);
        assertThat(reason("not a frame at all".getBytes())).isEqualTo(RejectReason.MAGIC);
        byte[] nextVersion = codec.encode(block);
        nextVersion[5] = 2;
        assertThat(reason(nextVersion)).isEqualTo(RejectReason.VERSION);
        byte[] unknownFlag = codec.encode(block);
        unknownFlag[7] = 4;
        assertThat(reason(unknownFlag)).isEqualTo(RejectReason.VERSION);
    }

    @Test
    void flippedBitsFailTheChecksum() {
        int length = codec.frameLength();
        for (int offset : new int[] {60, 100, TOKENS_AT + 5, PAYLOAD_AT, length - 5, length - 1}) {
            assertThat(reason(flip(codec.encode(block), offset))).as("bit flipped at %d", offset)
                    .isEqualTo(RejectReason.CHECKSUM);
        }
    }

    @Test
    void foreignFingerprintIsRejected() {
        byte[] frame = new KvCodec(PrefixHasherTest.sha256("other model".getBytes()), SPEC, BLOCK, Optional.empty())
                .encode(block);
        assertThat(reason(frame)).isEqualTo(RejectReason.FINGERPRINT);
    }

    @Test
    void otherShapesAreRejected() {
        KvSpec[] others = {
                new KvSpec(KvLayout.STACKED, 2, 2, 4, OnnxJavaType.FLOAT16),
                new KvSpec(KvLayout.SPLIT, 2, 2, 4, OnnxJavaType.BFLOAT16),
                new KvSpec(KvLayout.SPLIT, 2, 2, 4, OnnxJavaType.FLOAT),
                new KvSpec(KvLayout.SPLIT, 3, 2, 4, OnnxJavaType.FLOAT16),
                new KvSpec(KvLayout.SPLIT, 2, 1, 4, OnnxJavaType.FLOAT16),
                new KvSpec(KvLayout.SPLIT, 2, 2, 8, OnnxJavaType.FLOAT16)};
        for (KvSpec other : others) {
            KvBlock foreign = TestBlocks.random(other, BLOCK, 2);
            byte[] frame = new KvCodec(FINGERPRINT, other, BLOCK, Optional.empty()).encode(foreign);
            assertThat(codec.decode(frame, foreign.hash(), foreign.parent(), foreign.tokenIds()))
                    .as("%s", other).isEqualTo(new Decoded.Rejected(RejectReason.SHAPE));
        }
        KvBlock longer = TestBlocks.random(SPEC, 2 * BLOCK, 3);
        byte[] frame = new KvCodec(FINGERPRINT, SPEC, 2 * BLOCK, Optional.empty()).encode(longer);
        assertThat(codec.decode(frame, longer.hash(), longer.parent(), Arrays.copyOf(longer.tokenIds(), BLOCK)))
                .isEqualTo(new Decoded.Rejected(RejectReason.SHAPE));
    }

    @Test
    void frameForAnotherBlockIsRejected() {
        byte[] frame = codec.encode(block);
        BlockHash other = TestBlocks.hash(new Random(9));
        int[] otherTokens = block.tokenIds();
        otherTokens[BLOCK - 1]++;
        assertThat(codec.decode(frame, other, block.parent(), block.tokenIds()))
                .isEqualTo(new Decoded.Rejected(RejectReason.HASH));
        assertThat(codec.decode(frame, block.hash(), other, block.tokenIds()))
                .isEqualTo(new Decoded.Rejected(RejectReason.PARENT));
        assertThat(codec.decode(frame, block.hash(), block.parent(), otherTokens))
                .isEqualTo(new Decoded.Rejected(RejectReason.TOKENS));
    }

    @Test
    void hmacOnBothSidesRoundTrips() {
        KvCodec signing = new KvCodec(FINGERPRINT, SPEC, BLOCK, Optional.of(KEY));
        byte[] frame = signing.encode(block);
        assertThat(frame).hasSize(codec.frameLength() + 32);
        assertThat(ByteBuffer.wrap(frame).getShort(6)).isEqualTo((short) 1);
        assertThat(accepted(new KvCodec(FINGERPRINT, SPEC, BLOCK, Optional.of(KEY.clone()))
                .decode(frame, block.hash(), block.parent(), block.tokenIds()))).isEqualTo(block);
    }

    @Test
    void readerWithoutKeyAcceptsSignedFrames() {
        byte[] frame = new KvCodec(FINGERPRINT, SPEC, BLOCK, Optional.of(KEY)).encode(block);
        assertThat(accepted(codec.decode(frame, block.hash(), block.parent(), block.tokenIds()))).isEqualTo(block);
    }

    @Test
    void unsignedFrameIsRejectedWhenAKeyIsConfigured() {
        KvCodec verifying = new KvCodec(FINGERPRINT, SPEC, BLOCK, Optional.of(KEY));
        assertThat(verifying.decode(codec.encode(block), block.hash(), block.parent(), block.tokenIds()))
                .isEqualTo(new Decoded.Rejected(RejectReason.HMAC_MISSING));
    }

    @Test
    void forgedFramesFailTheHmac() {
        KvCodec verifying = new KvCodec(FINGERPRINT, SPEC, BLOCK, Optional.of(KEY));
        int[] tokens = block.tokenIds();

        // Someone who can write to Redis alters the payload and fixes the CRC, but cannot redo the HMAC.
        byte[] altered = verifying.encode(block);
        altered[PAYLOAD_AT + 3] ^= 0x40;
        int crcAt = codec.frameLength() - 4;
        CRC32C crc = new CRC32C();
        crc.update(altered, 0, crcAt);
        ByteBuffer.wrap(altered).putInt(crcAt, (int) crc.getValue());
        assertThat(verifying.decode(altered, block.hash(), block.parent(), tokens))
                .isEqualTo(new Decoded.Rejected(RejectReason.HMAC_MISMATCH));

        byte[] otherKey = new KvCodec(FINGERPRINT, SPEC, BLOCK, Optional.of("guess".getBytes())).encode(block);
        assertThat(verifying.decode(otherKey, block.hash(), block.parent(), tokens))
                .isEqualTo(new Decoded.Rejected(RejectReason.HMAC_MISMATCH));
    }

    @Test
    void encodeRefusesBlocksOfAnotherShape() {
        assertThatThrownBy(() -> codec.encode(TestBlocks.random(SPEC, BLOCK + 1, 4)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> codec.encode(TestBlocks.random(new KvSpec(KvLayout.SPLIT, 2, 2, 4, OnnxJavaType.FLOAT),
                BLOCK, 4))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void decodedPayloadIsReadOnlyAndItsPositionIsEachReadersOwn() {
        KvBlock decoded = accepted(codec.decode(codec.encode(block), block.hash(), block.parent(), block.tokenIds()));
        ByteBuffer first = decoded.payload();
        first.getLong();
        assertThat(decoded.payload().position()).isZero();
        assertThat(first.isReadOnly()).isTrue();
    }

    private RejectReason reason(byte[] frame) {
        return rejected(codec.decode(frame, block.hash(), block.parent(), block.tokenIds()));
    }
}
