package dev.kvshare.promptcache;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Block-chained prefix hashes (docs/prompt-cache.md, "How it works"). Block j's hash covers block j-1's hash, so
 * it stands for the whole prefix up to and including block j, just as block j's KV depends on every earlier token.
 *
 * <p>The encoding is fixed and canonical (SHA-256, big-endian integers, domain-separated, no
 * per-process seed) so that every replica computes the same hashes:
 * <pre>
 * seed     = SHA-256(lp("kvshare/prefix-seed/v1") ‖ lp(model fingerprint) ‖ lp(UTF-8 salt))
 * hash(j)  = SHA-256("kvshare/block/v1" ‖ hash(j-1) or seed ‖ u32 blockSize ‖ block j's ids as int32)
 * lp(x)    = u32 length of x ‖ x
 * </pre>
 * Length prefixes keep ("ab", "c") and ("a", "bc") apart.
 */
public final class PrefixHasher {

    private static final byte[] SEED_DOMAIN = "kvshare/prefix-seed/v1".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] BLOCK_DOMAIN = "kvshare/block/v1".getBytes(StandardCharsets.US_ASCII);

    private final byte[] modelFingerprint;
    private final int blockSize;

    public PrefixHasher(byte[] modelFingerprint, int blockSize) {
        if (Objects.requireNonNull(modelFingerprint, "modelFingerprint").length == 0) {
            throw new IllegalArgumentException("the model fingerprint is empty");
        }
        if (blockSize < 1) {
            throw new IllegalArgumentException("block size must be positive: " + blockSize);
        }
        this.modelFingerprint = modelFingerprint.clone();
        this.blockSize = blockSize;
    }

    public int blockSize() {
        return blockSize;
    }

    /** The chain's starting point for a salt ("" for none): the parent of block 0. */
    public BlockHash seed(String salt) {
        MessageDigest digest = sha256();
        byte[] saltBytes = Objects.requireNonNull(salt, "salt").getBytes(StandardCharsets.UTF_8);
        for (byte[] part : new byte[][] {SEED_DOMAIN, modelFingerprint, saltBytes}) {
            digest.update(ByteBuffer.allocate(Integer.BYTES).putInt(part.length).array());
            digest.update(part);
        }
        return new BlockHash(digest.digest());
    }

    /** Hashes of the full blocks of {@code tokenIds}, in order; a trailing partial block is not hashed. */
    public List<BlockHash> chain(int[] tokenIds, String salt) {
        int blocks = tokenIds.length / blockSize;
        List<BlockHash> chain = new ArrayList<>(blocks);
        MessageDigest digest = sha256();
        ByteBuffer encoded = ByteBuffer.allocate(Integer.BYTES * (1 + blockSize));
        byte[] previous = seed(salt).bytes();
        for (int block = 0; block < blocks; block++) {
            encoded.clear().putInt(blockSize);
            for (int i = block * blockSize, end = i + blockSize; i < end; i++) {
                encoded.putInt(tokenIds[i]);
            }
            digest.update(BLOCK_DOMAIN);
            digest.update(previous);
            digest.update(encoded.array());
            previous = digest.digest();
            chain.add(new BlockHash(previous));
        }
        return List.copyOf(chain);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
