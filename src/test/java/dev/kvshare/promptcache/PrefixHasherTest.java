package dev.kvshare.promptcache;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

class PrefixHasherTest {

    private static final byte[] FINGERPRINT = sha256("model-a".getBytes(StandardCharsets.UTF_8));
    private static final int BLOCK = 4;

    private final PrefixHasher hasher = new PrefixHasher(FINGERPRINT, BLOCK);

    @Test
    void sameInputSameChainAcrossInstances() {
        int[] ids = IntStream.range(0, 17).toArray();
        assertThat(hasher.chain(ids, "t")).isEqualTo(new PrefixHasher(FINGERPRINT, BLOCK).chain(ids.clone(), "t"));
    }

    @Test
    void onlyFullBlocksAreHashed() {
        assertThat(hasher.chain(IntStream.range(0, 3).toArray(), "")).isEmpty();
        assertThat(hasher.chain(IntStream.range(0, 4).toArray(), "")).hasSize(1);
        assertThat(hasher.chain(IntStream.range(0, 11).toArray(), "")).hasSize(2);
        assertThat(hasher.chain(IntStream.range(0, 11).toArray(), ""))
                .isEqualTo(hasher.chain(IntStream.range(0, 8).toArray(), ""));
    }

    @Test
    void chainOfLongerPromptStartsWithChainOfItsPrefix() {
        int[] longer = IntStream.range(100, 140).toArray();
        int[] prefix = IntStream.range(100, 120).toArray();
        List<BlockHash> longChain = hasher.chain(longer, "s");
        assertThat(longChain).hasSize(10).startsWith(hasher.chain(prefix, "s").toArray(BlockHash[]::new));
    }

    @Test
    void changingBlockZeroChangesEveryLaterHash() {
        int[] ids = IntStream.range(0, 16).toArray();
        int[] changed = ids.clone();
        changed[1] = 999;
        List<BlockHash> a = hasher.chain(ids, "");
        List<BlockHash> b = hasher.chain(changed, "");
        for (int j = 0; j < a.size(); j++) {
            assertThat(b.get(j)).as("block %d", j).isNotEqualTo(a.get(j));
        }
    }

    @Test
    void saltsAndFingerprintsIsolate() {
        int[] ids = IntStream.range(0, 8).toArray();
        List<BlockHash> base = hasher.chain(ids, "tenant-a");
        assertThat(hasher.chain(ids, "tenant-b")).doesNotContainAnyElementsOf(base);
        assertThat(hasher.chain(ids, "")).doesNotContainAnyElementsOf(base);
        assertThat(new PrefixHasher(sha256(new byte[] {1}), BLOCK).chain(ids, "tenant-a"))
                .doesNotContainAnyElementsOf(base);
    }

    @Test
    void lengthPrefixesKeepFieldBoundaries() {
        // Fingerprint "ab" + salt "c" and fingerprint "a" + salt "bc" concatenate to the same bytes.
        PrefixHasher ab = new PrefixHasher("ab".getBytes(StandardCharsets.UTF_8), BLOCK);
        PrefixHasher a = new PrefixHasher("a".getBytes(StandardCharsets.UTF_8), BLOCK);
        assertThat(ab.seed("c")).isNotEqualTo(a.seed("bc"));
    }

    @Test
    void blockSizeIsPartOfTheHash() {
        int[] ids = IntStream.range(0, 8).toArray();
        BlockHash twoBlocksOfFour = hasher.chain(ids, "").get(1);
        BlockHash oneBlockOfEight = new PrefixHasher(FINGERPRINT, 8).chain(ids, "").get(0);
        assertThat(oneBlockOfEight).isNotEqualTo(twoBlocksOfFour);
    }

    @Test
    void blocksWhollyInsideAPublicPrefixAreSharedAndEveryLaterBlockIsSalted() {
        int[] system = IntStream.range(500, 510).toArray(); // 2 full blocks of 4, then 2 tokens
        PrefixHasher withPublic = new PrefixHasher(FINGERPRINT, BLOCK, List.of(system));
        int[] conversation = IntStream.concat(IntStream.of(system), IntStream.range(0, 14)).toArray();

        BlockChain a = withPublic.blocks(conversation, "tenant-a");
        BlockChain b = withPublic.blocks(conversation, "tenant-b");

        assertThat(a.publicBlocks()).isEqualTo(2);
        assertThat(a.hashes().subList(0, 2)).isEqualTo(b.hashes().subList(0, 2));
        // Block 2 holds the prefix's last 2 tokens and 2 of the conversation's: salted, as is everything after.
        assertThat(b.hashes().subList(2, a.size())).doesNotContainAnyElementsOf(a.hashes());
        assertThat(a.parent(0)).isNotIn(hasher.seed("tenant-a"), hasher.seed("tenant-b"));
        assertThat(a.parent(1)).isEqualTo(a.hash(0));
        assertThat(a.parent(2)).isNotEqualTo(a.hash(1)).isNotEqualTo(b.parent(2));
        assertThat(a.parent(3)).isEqualTo(a.hash(2));
        // The prefix itself warms the same public blocks under any salt.
        assertThat(withPublic.chain(system, "")).isEqualTo(a.hashes().subList(0, 2));
    }

    @Test
    void promptsNotStartingWithAPublicPrefixHashAsWithoutOne() {
        int[] system = IntStream.range(500, 510).toArray();
        PrefixHasher withPublic = new PrefixHasher(FINGERPRINT, BLOCK, List.of(system, IntStream.range(0, 3).toArray()));
        int[] other = IntStream.range(0, 20).toArray();
        int[] divergesInsideIt = other.clone();
        System.arraycopy(system, 0, divergesInsideIt, 0, 7);

        for (int[] ids : List.of(other, divergesInsideIt)) {
            BlockChain chain = withPublic.blocks(ids, "t");
            assertThat(chain.publicBlocks()).isZero();
            assertThat(chain.hashes()).isEqualTo(hasher.chain(ids, "t"));
            assertThat(chain.parent(0)).isEqualTo(hasher.seed("t"));
        }
        assertThat(withPublic.publicPrefixBlocks()).isEqualTo(2);
    }

    @Test
    void theLongestMatchingPublicPrefixWins() {
        int[] shorter = IntStream.range(500, 504).toArray();
        int[] longer = IntStream.range(500, 512).toArray();
        PrefixHasher withPublic = new PrefixHasher(FINGERPRINT, BLOCK, List.of(shorter, longer));
        assertThat(withPublic.blocks(IntStream.range(500, 530).toArray(), "t").publicBlocks()).isEqualTo(3);
        assertThat(withPublic.blocks(IntStream.range(500, 510).toArray(), "t").publicBlocks()).isEqualTo(1);
    }

    @Test
    void knownAnswerComputedByHand() {
        byte[] fingerprint = new byte[32];
        int[] ids = {1, 2, 3, 4, 5, 6, 7, 8, 9};

        byte[] seed = sha256(concat(
                lengthPrefixed("kvshare/prefix-seed/v1".getBytes(StandardCharsets.US_ASCII)),
                lengthPrefixed(fingerprint),
                lengthPrefixed("salt".getBytes(StandardCharsets.UTF_8))));
        byte[] block0 = sha256(concat("kvshare/block/v1".getBytes(StandardCharsets.US_ASCII), seed,
                ints(4, 1, 2, 3, 4)));
        byte[] block1 = sha256(concat("kvshare/block/v1".getBytes(StandardCharsets.US_ASCII), block0,
                ints(4, 5, 6, 7, 8)));

        PrefixHasher fixed = new PrefixHasher(fingerprint, 4);
        assertThat(fixed.seed("salt").bytes()).isEqualTo(seed);
        assertThat(fixed.chain(ids, "salt")).containsExactly(new BlockHash(block0), new BlockHash(block1));
        // Pinned (also computed with Python's hashlib): changing the encoding orphans every stored entry.
        assertThat(fixed.chain(ids, "salt").get(1).hex())
                .isEqualTo("5561e75071938e53c2d77096a3061bfb8cce4f87655022cbb907dd6951f1ddcb");
        assertThat(fixed.chain(ids, "salt").get(0).hex().toUpperCase(java.util.Locale.ROOT))
                .isEqualTo("B598E9F55D4CB2099E78952CDB3A5CCF43DE2EA9390538097F07E65B02AB0F61");
    }

    private static byte[] lengthPrefixed(byte[] bytes) {
        return ByteBuffer.allocate(4 + bytes.length).putInt(bytes.length).put(bytes).array();
    }

    private static byte[] ints(int... values) {
        ByteBuffer buffer = ByteBuffer.allocate(4 * values.length);
        for (int value : values) {
            buffer.putInt(value);
        }
        return buffer.array();
    }

    private static byte[] concat(byte[]... parts) {
        ByteBuffer buffer = ByteBuffer.allocate(IntStream.range(0, parts.length).map(i -> parts[i].length).sum());
        for (byte[] part : parts) {
            buffer.put(part);
        }
        return buffer.array();
    }

    static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aPartialBlocksKeyIsNeverAFullBlocksHash() {
        PrefixHasher hasher = new PrefixHasher(new byte[] {1, 2, 3}, 4);
        List<BlockHash> chain = hasher.chain(new int[] {1, 2, 3, 4, 5, 6, 7, 8}, "");
        BlockHash seed = hasher.seed("");
        assertThat(List.of(hasher.partial(seed), hasher.partial(chain.get(0)), hasher.partial(chain.get(1))))
                .doesNotHaveDuplicates().doesNotContainAnyElementsOf(chain).doesNotContain(seed);
        assertThat(hasher.partial(chain.get(0))).isEqualTo(new PrefixHasher(new byte[] {1, 2, 3}, 4).partial(chain.get(0)));
    }
}
