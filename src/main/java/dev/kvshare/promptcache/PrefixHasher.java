package dev.kvshare.promptcache;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
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
 * partial(parent) = SHA-256("kvshare/partial/v1" ‖ parent)
 * </pre>
 * Length prefixes keep ("ab", "c") and ("a", "bc") apart.
 *
 * <p><b>Public prefixes.</b> A prompt that starts with the full blocks of an operator-declared public prefix
 * (the longest such) chains those blocks from a seed without salt, so every tenant shares them, and switches to
 * its own salt at the first block holding anything else:
 * <pre>
 * public seed  = SHA-256(lp("kvshare/public-seed/v1") ‖ lp(model fingerprint))
 * switch seed  = SHA-256(lp("kvshare/after-public/v1") ‖ lp(last public block's hash) ‖ lp(seed(salt)))
 * </pre>
 * The block after the public ones has the switch seed as its parent; from there the chain goes on as above.
 * A prompt that does not start with a public prefix hashes exactly as without any declared.
 *
 * <p>A partial block — the tokens after a chain's last
 * full block, kept by the local tier only — is keyed by its parent alone, in its own domain, so it can never
 * be taken for a full block; its entry carries its token ids, which a lookup compares.
 */
public final class PrefixHasher {

    private static final byte[] SEED_DOMAIN = "kvshare/prefix-seed/v1".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] BLOCK_DOMAIN = "kvshare/block/v1".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] PUBLIC_SEED_DOMAIN = "kvshare/public-seed/v1".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SWITCH_DOMAIN = "kvshare/after-public/v1".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] PARTIAL_DOMAIN = "kvshare/partial/v1".getBytes(StandardCharsets.US_ASCII);

    private final byte[] modelFingerprint;
    private final int blockSize;
    /** The full-block part of each public prefix's token ids (prefixes shorter than a block are left out). */
    private final List<int[]> publicPrefixes;

    public PrefixHasher(byte[] modelFingerprint, int blockSize) {
        this(modelFingerprint, blockSize, List.of());
    }

    /** @param publicPrefixes token ids of the operator's public prefixes: their full blocks every tenant shares */
    public PrefixHasher(byte[] modelFingerprint, int blockSize, List<int[]> publicPrefixes) {
        if (Objects.requireNonNull(modelFingerprint, "modelFingerprint").length == 0) {
            throw new IllegalArgumentException("the model fingerprint is empty");
        }
        if (blockSize < 1) {
            throw new IllegalArgumentException("block size must be positive: " + blockSize);
        }
        this.modelFingerprint = modelFingerprint.clone();
        this.blockSize = blockSize;
        this.publicPrefixes = publicPrefixes.stream()
                .map(ids -> Arrays.copyOf(ids, ids.length / blockSize * blockSize))
                .filter(ids -> ids.length > 0)
                .toList();
    }

    /** How many full blocks of public prefixes there are, all prefixes together. */
    public int publicPrefixBlocks() {
        return publicPrefixes.stream().mapToInt(ids -> ids.length / blockSize).sum();
    }

    public int blockSize() {
        return blockSize;
    }

    /** The chain's starting point for a salt ("" for none): the parent of block 0. */
    public BlockHash seed(String salt) {
        return lengthPrefixed(SEED_DOMAIN, modelFingerprint,
                Objects.requireNonNull(salt, "salt").getBytes(StandardCharsets.UTF_8));
    }

    /** Hashes of the full blocks of {@code tokenIds}, in order; a trailing partial block is not hashed. */
    public List<BlockHash> chain(int[] tokenIds, String salt) {
        return blocks(tokenIds, salt).hashes();
    }

    /** The full blocks of {@code tokenIds}: hashes and parents, public ones first (see the class comment). */
    public BlockChain blocks(int[] tokenIds, String salt) {
        int blocks = tokenIds.length / blockSize;
        int publicBlocks = publicBlocks(tokenIds);
        List<BlockHash> chain = new ArrayList<>(blocks);
        List<BlockHash> parents = new ArrayList<>(blocks);
        MessageDigest digest = sha256();
        ByteBuffer encoded = ByteBuffer.allocate(Integer.BYTES * (1 + blockSize));
        byte[] previous = (publicBlocks > 0 ? lengthPrefixed(PUBLIC_SEED_DOMAIN, modelFingerprint) : seed(salt))
                .bytes();
        for (int block = 0; block < blocks; block++) {
            if (block == publicBlocks && publicBlocks > 0) {
                previous = lengthPrefixed(SWITCH_DOMAIN, previous, seed(salt).bytes()).bytes();
            }
            parents.add(new BlockHash(previous));
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
        // A block after the last full one holds something past the public prefix: it takes the tenant's salt.
        BlockHash next = new BlockHash(blocks == publicBlocks && publicBlocks > 0
                ? lengthPrefixed(SWITCH_DOMAIN, previous, seed(salt).bytes()).bytes() : previous);
        return new BlockChain(chain, parents, publicBlocks, next);
    }

    /** The full blocks of the longest public prefix whose full blocks {@code tokenIds} starts with; 0 if none. */
    private int publicBlocks(int[] tokenIds) {
        int longest = 0;
        for (int[] prefix : publicPrefixes) {
            if (prefix.length > longest && prefix.length <= tokenIds.length
                    && Arrays.equals(tokenIds, 0, prefix.length, prefix, 0, prefix.length)) {
                longest = prefix.length;
            }
        }
        return longest / blockSize;
    }

    /** SHA-256 over each part, length-prefixed. */
    private static BlockHash lengthPrefixed(byte[]... parts) {
        MessageDigest digest = sha256();
        for (byte[] part : parts) {
            digest.update(ByteBuffer.allocate(Integer.BYTES).putInt(part.length).array());
            digest.update(part);
        }
        return new BlockHash(digest.digest());
    }

    /** The key of the partial block that follows {@code parent} (a full block's hash, or the seed). */
    public BlockHash partial(BlockHash parent) {
        MessageDigest digest = sha256();
        digest.update(PARTIAL_DOMAIN);
        digest.update(parent.bytes());
        return new BlockHash(digest.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
