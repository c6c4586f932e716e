package dev.kvshare.kvevents;

import java.nio.ByteBuffer;

import dev.kvshare.promptcache.BlockHash;

/**
 * kvshare's 32-byte block hashes as the 64-bit integers vLLM's events carry. The last eight bytes, big-endian:
 * the same number llm-d derives when it is sent the hash as bytes. Routers key their index on the token ids and
 * use these only to pair a removal with an earlier store, so the replica's own hash serves.
 */
final class BlockHashes {

    private BlockHashes() {
    }

    static long toLong(BlockHash hash) {
        return ByteBuffer.wrap(hash.bytes(), BlockHash.LENGTH - Long.BYTES, Long.BYTES).getLong();
    }
}
