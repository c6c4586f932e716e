package dev.kvshare.promptcache;

import static dev.kvshare.promptcache.DecodedFrames.accepted;
import static dev.kvshare.promptcache.DecodedFrames.flip;
import static dev.kvshare.promptcache.DecodedFrames.rejected;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Random;

import ai.onnxruntime.OnnxJavaType;
import dev.kvshare.model.KvLayout;
import dev.kvshare.model.KvSpec;
import dev.kvshare.promptcache.KvCodec.Decoded;
import org.junit.jupiter.api.Test;

/** Encrypted frames (format 2): nothing of the block readable, bound to their key, readable under rotated keys. */
class KvCodecEncryptionTest {

    private static final int BLOCK = 8;
    private static final KvSpec SPEC = new KvSpec(KvLayout.SPLIT, 2, 2, 4, OnnxJavaType.FLOAT16);
    private static final byte[] FINGERPRINT = PrefixHasherTest.sha256("model".getBytes());
    private static final byte[] OLD_KEY = key(1);
    private static final byte[] NEW_KEY = key(2);
    private static final int PLAIN_LENGTH = 670;

    private final KvCodec plain = new KvCodec(FINGERPRINT, SPEC, BLOCK, Optional.empty());
    private final KvCodec oldOnly = encrypting(OLD_KEY);
    private final KvCodec rotating = encrypting(NEW_KEY, OLD_KEY);
    private final KvCodec newOnly = encrypting(NEW_KEY);
    private final KvBlock block = TestBlocks.random(SPEC, BLOCK, 1);

    @Test
    void roundTripsAndSaysWhichKeyInTheClearHeader() {
        byte[] frame = oldOnly.encode(block);

        assertThat(oldOnly.formatVersion()).isEqualTo(2);
        assertThat(frame).hasSize(oldOnly.frameLength()).hasSize(60 + PLAIN_LENGTH + 16);
        assertThat(oldOnly.maxFrameLength()).isEqualTo(frame.length);
        ByteBuffer header = ByteBuffer.wrap(frame);
        assertThat(new String(frame, 0, 4, StandardCharsets.US_ASCII)).isEqualTo("KVSH");
        assertThat(header.getShort(4)).isEqualTo((short) 2);
        assertThat(header.getShort(6)).isZero();
        assertThat(Arrays.copyOfRange(frame, 8, 40)).isEqualTo(FINGERPRINT);
        byte[] id = PrefixHasherTest.sha256(concat("kvshare/frame-key-id/v1".getBytes(StandardCharsets.US_ASCII),
                OLD_KEY));
        assertThat(Arrays.copyOfRange(frame, 40, 48)).isEqualTo(Arrays.copyOf(id, 8));
        assertThat(accepted(oldOnly.decode(frame, block.hash(), block.parent(), block.tokenIds()))).isEqualTo(block);
    }

    @Test
    void theSameBlockEncryptsDifferentlyEachTimeAndShowsNeitherTokensNorKv() {
        byte[] first = oldOnly.encode(block);
        byte[] second = oldOnly.encode(block);

        assertThat(Arrays.copyOfRange(first, 48, 60)).isNotEqualTo(Arrays.copyOfRange(second, 48, 60));
        assertThat(Arrays.copyOfRange(first, 60, first.length)).isNotEqualTo(Arrays.copyOfRange(second, 60,
                second.length));
        byte[] clear = plain.encode(block);
        byte[] tokens = Arrays.copyOfRange(clear, 122, 122 + 4 * BLOCK);
        byte[] payload = Arrays.copyOfRange(clear, 122 + 4 * BLOCK, clear.length - 4);
        for (byte[] frame : List.of(first, second)) {
            assertThat(indexOf(frame, Arrays.copyOf(tokens, 8))).isNegative();
            assertThat(indexOf(frame, Arrays.copyOf(payload, 8))).isNegative();
            assertThat(indexOf(frame, block.hash().bytes())).isNegative();
        }
        assertThat(indexOf(clear, Arrays.copyOf(payload, 8))).as("the search finds what is there").isPositive();
    }

    @Test
    void aRotatedOutKeyIsReadWhileListedAndRejectedOnceRemoved() {
        byte[] underOldKey = oldOnly.encode(block);

        assertThat(accepted(rotating.decode(underOldKey, block.hash(), block.parent(), block.tokenIds())))
                .isEqualTo(block);
        assertThat(reason(newOnly, underOldKey)).isEqualTo(RejectReason.UNKNOWN_KEY);
        // The rotating codec writes under the new key, which a replica still on the old key alone cannot read.
        byte[] underNewKey = rotating.encode(block);
        assertThat(accepted(newOnly.decode(underNewKey, block.hash(), block.parent(), block.tokenIds())))
                .isEqualTo(block);
        assertThat(reason(oldOnly, underNewKey)).isEqualTo(RejectReason.UNKNOWN_KEY);
    }

    @Test
    void tamperingAnywhereIsRejected() {
        int length = oldOnly.frameLength();
        assertThat(reason(oldOnly, flip(oldOnly.encode(block), 0))).isEqualTo(RejectReason.MAGIC);
        assertThat(reason(oldOnly, flip(oldOnly.encode(block), 5))).isEqualTo(RejectReason.VERSION);
        assertThat(reason(oldOnly, flip(oldOnly.encode(block), 7))).isEqualTo(RejectReason.VERSION);
        assertThat(reason(oldOnly, flip(oldOnly.encode(block), 20))).isEqualTo(RejectReason.FINGERPRINT);
        assertThat(reason(oldOnly, flip(oldOnly.encode(block), 43))).isEqualTo(RejectReason.UNKNOWN_KEY);
        for (int offset : new int[] {48, 59, 60, 61, 60 + 122, 60 + 300, length - 17, length - 16, length - 1}) {
            assertThat(reason(oldOnly, flip(oldOnly.encode(block), offset))).as("bit flipped at %d", offset)
                    .isEqualTo(RejectReason.DECRYPTION);
        }
        byte[] frame = oldOnly.encode(block);
        assertThat(reason(oldOnly, Arrays.copyOf(frame, frame.length - 1))).isEqualTo(RejectReason.TRUNCATED);
        assertThat(reason(oldOnly, Arrays.copyOf(frame, 59))).isEqualTo(RejectReason.TRUNCATED);
        assertThat(reason(oldOnly, Arrays.copyOf(frame, frame.length + 16))).isEqualTo(RejectReason.OVERSIZE);
    }

    @Test
    void aFrameMovedUnderAnotherBlocksKeyFailsItsTag() {
        byte[] frame = oldOnly.encode(block);
        BlockHash other = TestBlocks.hash(new Random(9));

        assertThat(oldOnly.decode(frame, other, block.parent(), block.tokenIds()))
                .isEqualTo(new Decoded.Rejected(RejectReason.DECRYPTION));
        // Even a forged frame whose inner block names the other hash: the tag binds the key it is read under.
        KvBlock relabelled = new KvBlock(other, block.parent(), block.tokenIds(), block.payload());
        assertThat(oldOnly.decode(frame, relabelled.hash(), relabelled.parent(), relabelled.tokenIds()))
                .isEqualTo(new Decoded.Rejected(RejectReason.DECRYPTION));
    }

    @Test
    void plainAndEncryptedCodecsRefuseEachOthersFrames() {
        assertThat(reason(oldOnly, plain.encode(block))).isEqualTo(RejectReason.VERSION);
        assertThat(reason(oldOnly, new KvCodec(FINGERPRINT, SPEC, BLOCK, Optional.of("k".getBytes())).encode(block)))
                .isEqualTo(RejectReason.VERSION);
        assertThat(reason(plain, oldOnly.encode(block))).isEqualTo(RejectReason.VERSION);
        KvCodec otherModel = new KvCodec(PrefixHasherTest.sha256("other".getBytes()), SPEC, BLOCK,
                FrameKeys.of(OLD_KEY, List.of()));
        assertThat(reason(oldOnly, otherModel.encode(block))).isEqualTo(RejectReason.FINGERPRINT);
    }

    @Test
    void keysAreReadAsHexOrBase64AndMustBe32Bytes() {
        String hex = HexFormat.of().formatHex(OLD_KEY);
        long id = FrameKeys.idOf(OLD_KEY);
        assertThat(FrameKeys.parse(hex, List.of()).orElseThrow().sealingId()).isEqualTo(id);
        assertThat(FrameKeys.parse(hex.toUpperCase(), null).orElseThrow().sealingId()).isEqualTo(id);
        assertThat(FrameKeys.parse(Base64.getEncoder().encodeToString(OLD_KEY), List.of()).orElseThrow().sealingId())
                .isEqualTo(id);
        byte[] urlKey = new byte[32];
        Arrays.fill(urlKey, (byte) 0xFB); // base64 "+" and "/" become "-" and "_"
        assertThat(FrameKeys.parse(Base64.getUrlEncoder().encodeToString(urlKey), List.of()).orElseThrow()
                .sealingId()).isEqualTo(FrameKeys.idOf(urlKey));
        FrameKeys both = FrameKeys.parse(hex, List.of(Base64.getEncoder().encodeToString(NEW_KEY), hex)).orElseThrow();
        assertThat(both.readableKeys()).isEqualTo(2);
        assertThat(FrameKeys.parse(null, null)).isEmpty();
        assertThat(FrameKeys.parse(" ", List.of())).isEmpty();

        assertThatThrownBy(() -> FrameKeys.parse(hex.substring(2), List.of()))
                .hasMessageContaining("kvshare.prompt-cache.encryption-key").hasMessageContaining("31 bytes");
        assertThatThrownBy(() -> FrameKeys.parse("not a key!", List.of()))
                .hasMessageContaining("kvshare.prompt-cache.encryption-key");
        assertThatThrownBy(() -> FrameKeys.parse(hex, List.of("c2hvcnQ=")))
                .hasMessageContaining("kvshare.prompt-cache.decryption-keys").hasMessageContaining("5 bytes");
        assertThatThrownBy(() -> FrameKeys.parse(null, List.of(hex)))
                .hasMessageContaining("kvshare.prompt-cache.decryption-keys is set but");
    }

    private static KvCodec encrypting(byte[] key, byte[]... older) {
        return new KvCodec(FINGERPRINT, SPEC, BLOCK, FrameKeys.of(key, List.of(older)));
    }

    private RejectReason reason(KvCodec codec, byte[] frame) {
        return rejected(codec.decode(frame, block.hash(), block.parent(), block.tokenIds()));
    }

    private static byte[] key(int seed) {
        byte[] key = new byte[FrameKeys.KEY_LENGTH];
        new Random(seed).nextBytes(key);
        return key;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }

    static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
