package dev.kvshare.promptcache;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

import dev.kvshare.model.KvSpec;

/**
 * The KV of one full block of tokens, as the prompt cache stores it.
 *
 * <p>{@code payload} holds, per layer, the key then the value, each {@code [kv_heads, block_len,
 * head_dim]} row-major in the dtype's native little-endian bytes (for the stacked layout, key = stacked
 * index 0, value = index 1). The record keeps a read-only view of the bytes between the buffer's
 * position and limit, and {@link #payload()} hands out a fresh view each time, because the local tier
 * serves one block to many concurrent requests and a shared buffer position would race.
 *
 * @param parent the previous block's hash, or {@link PrefixHasher#seed} for block 0
 */
public record KvBlock(BlockHash hash, BlockHash parent, int[] tokenIds, ByteBuffer payload) {

    public KvBlock {
        Objects.requireNonNull(hash, "hash");
        Objects.requireNonNull(parent, "parent");
        tokenIds = Objects.requireNonNull(tokenIds, "tokenIds").clone();
        payload = Objects.requireNonNull(payload, "payload").slice().asReadOnlyBuffer();
    }

    /** Payload bytes of a block of {@code blockLength} tokens: 2 × layers × kv_heads × block_len × head_dim × dtype. */
    public static long payloadLength(KvSpec spec, int blockLength) {
        return spec.bytesPerToken() * blockLength;
    }

    @Override
    public int[] tokenIds() {
        return tokenIds.clone();
    }

    /** Whether its token ids are exactly {@code ids} (without the copy {@link #tokenIds()} makes). */
    public boolean hasTokens(int[] ids) {
        return Arrays.equals(tokenIds, ids);
    }

    /** A read-only little-endian view of the payload, positioned at 0; its position is the caller's own. */
    @Override
    public ByteBuffer payload() {
        return payload.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    public int payloadLength() {
        return payload.remaining();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof KvBlock that
                && hash.equals(that.hash)
                && parent.equals(that.parent)
                && Arrays.equals(tokenIds, that.tokenIds)
                && payload.equals(that.payload);
    }

    /** The hash alone: it already identifies the block, and hashing megabytes of payload would be slow. */
    @Override
    public int hashCode() {
        return hash.hashCode();
    }

    @Override
    public String toString() {
        return "KvBlock[hash=" + hash + ", parent=" + parent + ", tokens=" + tokenIds.length
                + ", payloadBytes=" + payload.remaining() + "]";
    }
}
