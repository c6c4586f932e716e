package dev.kvshare.promptcache;

/**
 * Chooses the block size when none is configured: Redis moves values of about 1–4 MB best, so aim a
 * block at {@value #TARGET_BYTES} bytes, as a power of two between {@value #MIN} and {@value #MAX} tokens
 * (small blocks share more of a prompt; large ones cost fewer keys and round trips).
 */
public final class BlockSizes {

    static final long TARGET_BYTES = 2L << 20;
    static final int MIN = 16;
    static final int MAX = 256;

    private BlockSizes() {
    }

    public static int forBytesPerToken(long bytesPerToken) {
        long tokens = Math.max(1, TARGET_BYTES / Math.max(1, bytesPerToken));
        int power = Integer.highestOneBit((int) Math.min(Integer.MAX_VALUE, tokens));
        return Math.max(MIN, Math.min(MAX, power));
    }
}
