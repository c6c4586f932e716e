package dev.kvshare.promptcache;

import java.nio.ByteBuffer;
import java.util.Random;
import java.util.stream.IntStream;

import dev.kvshare.model.KvSpec;

/** Test blocks with random payloads of the right size for a spec. */
final class TestBlocks {

    private TestBlocks() {
    }

    static KvBlock random(KvSpec spec, int blockSize, long seed) {
        Random random = new Random(seed);
        byte[] payload = new byte[(int) KvBlock.payloadLength(spec, blockSize)];
        random.nextBytes(payload);
        return new KvBlock(hash(random), hash(random), IntStream.generate(() -> random.nextInt(50_000))
                .limit(blockSize).toArray(), ByteBuffer.wrap(payload));
    }

    static BlockHash hash(Random random) {
        byte[] bytes = new byte[BlockHash.LENGTH];
        random.nextBytes(bytes);
        return new BlockHash(bytes);
    }
}
