package dev.kvshare.promptcache;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Optional;
import java.util.Random;

import ai.onnxruntime.OnnxJavaType;
import dev.kvshare.model.KvLayout;
import dev.kvshare.model.KvSpec;
import org.junit.jupiter.api.Test;

/**
 * Whatever bytes sit under a block key — random, or a real frame mutated as an attacker or a fault would —
 * decoding answers Accepted or Rejected: it never throws, and it never accepts a frame that differs from what
 * the codec wrote. Seeded, so a failure names a reproducible case; bounded, so it runs in every build.
 */
class KvCodecFuzzTest {

    private static final int BLOCK = 8;
    private static final KvSpec SPEC = new KvSpec(KvLayout.SPLIT, 2, 2, 4, OnnxJavaType.FLOAT16);
    private static final byte[] FINGERPRINT = PrefixHasherTest.sha256("model".getBytes());
    private static final int CASES = 20_000;

    @Test
    void randomAndMutatedFramesAreAcceptedOnlyWhenIntactAndNeverThrow() {
        FrameKeys aesKeys = FrameKeys.of(new byte[FrameKeys.KEY_LENGTH], java.util.List.of());
        for (KvCodec codec : java.util.List.of(new KvCodec(FINGERPRINT, SPEC, BLOCK, Optional.empty()),
                new KvCodec(FINGERPRINT, SPEC, BLOCK, Optional.of("k".getBytes())),
                new KvCodec(FINGERPRINT, SPEC, BLOCK, aesKeys))) {
            Random random = new Random(20261124);
            for (int i = 0; i < CASES; i++) {
                KvBlock block = TestBlocks.random(SPEC, BLOCK, i % 7);
                byte[] original = codec.encode(block);
                byte[] input = mutate(original, random);

                KvCodec.Decoded decoded = codec.decode(input, block.hash(), block.parent(), block.tokenIds());

                if (decoded instanceof KvCodec.Decoded.Accepted) {
                    assertThat(input).as("case %d was accepted but altered", i).isEqualTo(original);
                }
            }
        }
    }

    private static byte[] mutate(byte[] frame, Random random) {
        byte[] copy = frame.clone();
        switch (random.nextInt(8)) {
            case 0 -> { // bit flips anywhere
                for (int n = 1 + random.nextInt(4); n > 0; n--) {
                    copy[random.nextInt(copy.length)] ^= (byte) (1 << random.nextInt(8));
                }
                return copy;
            }
            case 1 -> {
                return Arrays.copyOf(copy, random.nextInt(copy.length));
            }
            case 2 -> {
                return Arrays.copyOf(copy, copy.length + 1 + random.nextInt(64));
            }
            case 3 -> { // a random header field set to an extreme value
                int at = random.nextInt(Math.min(copy.length - 4, 122));
                ByteBuffer.wrap(copy).putInt(at, random.nextBoolean() ? Integer.MAX_VALUE : Integer.MIN_VALUE);
                return copy;
            }
            case 4 -> {
                byte[] noise = new byte[random.nextInt(2 * frame.length)];
                random.nextBytes(noise);
                return noise;
            }
            case 5 -> {
                return new byte[0];
            }
            case 6 -> { // shorts of the header (version, flags, dims) set to random values
                int at = 4 + 2 * random.nextInt(10);
                ByteBuffer.wrap(copy).putShort(at, (short) random.nextInt());
                return copy;
            }
            default -> {
                return copy; // intact: must be accepted
            }
        }
    }
}
