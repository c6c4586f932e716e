package dev.kvshare.promptcache;

/**
 * Chooses the block size when none is configured: Redis moves values of about 1–4 MB best, so aim a
 * block at {@value #TARGET_BYTES} bytes, as a power of two between {@value #MIN} and {@value #MAX} tokens.
 * Large blocks cost fewer keys, but every prompt recomputes the tail that does not fill a block: on the
 * bundled model, a 987-token prompt restored 768 tokens with 256-token blocks (3.0x faster first token
 * than cold) and 960 with 64-token blocks (7.4x) — see docs/prompt-cache.md.
 */
public final class BlockSizes {

    static final long TARGET_BYTES = 2L << 20;
    static final int MIN = 16;
    static final int MAX = 64;

    private BlockSizes() {
    }

    public static int forBytesPerToken(long bytesPerToken) {
        long tokens = Math.max(1, TARGET_BYTES / Math.max(1, bytesPerToken));
        int power = Integer.highestOneBit((int) Math.min(Integer.MAX_VALUE, tokens));
        return Math.max(MIN, Math.min(MAX, power));
    }
}
