package dev.kvshare.promptcache;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.IntStream;

import ai.onnxruntime.OnnxJavaType;
import dev.kvshare.model.KvLayout;
import dev.kvshare.model.KvSpec;
import org.junit.jupiter.api.Test;

class LocalKvStoreTest {

    private static final KvSpec SPEC = new KvSpec(KvLayout.SPLIT, 1, 1, 64, OnnxJavaType.FLOAT);
    private static final int BLOCK = 8;
    /** 4096 payload bytes + 32 bytes of token ids + the per-entry overhead. */
    private static final long WEIGHT = 4096 + 32 + LocalKvStore.ENTRY_OVERHEAD_BYTES;

    @Test
    void getsWhatWasPutAndCountsHitsAndMisses() {
        LocalKvStore store = new LocalKvStore(10 * WEIGHT);
        KvBlock block = TestBlocks.random(SPEC, BLOCK, 1);
        store.put(block);

        assertThat(store.get(block.hash())).contains(block);
        assertThat(store.get(TestBlocks.random(SPEC, BLOCK, 2).hash())).isEmpty();
        assertThat(store.stats()).isEqualTo(new LocalKvStore.Stats(1, WEIGHT, 1, 1, 0));
    }

    @Test
    void holdsABlockOnlyWithTheSameTokensAndWithoutCountingARead() {
        LocalKvStore store = new LocalKvStore(10 * WEIGHT);
        KvBlock block = TestBlocks.random(SPEC, BLOCK, 1);
        store.put(block);
        int[] others = block.tokenIds();
        others[BLOCK - 1]++;

        assertThat(store.holds(block.hash(), block.tokenIds())).isTrue();
        assertThat(store.holds(block.hash(), others)).as("a partial block's key does not name its tokens").isFalse();
        assertThat(store.holds(TestBlocks.random(SPEC, BLOCK, 2).hash(), block.tokenIds())).isFalse();
        assertThat(store.stats()).isEqualTo(new LocalKvStore.Stats(1, WEIGHT, 0, 0, 0));
    }

    @Test
    void evictsByBytes() {
        LocalKvStore store = new LocalKvStore(5 * WEIGHT);
        List<KvBlock> blocks = IntStream.range(0, 20).mapToObj(i -> TestBlocks.random(SPEC, BLOCK, i)).toList();
        blocks.forEach(store::put);

        LocalKvStore.Stats stats = store.stats();
        assertThat(stats.bytes()).isLessThanOrEqualTo(5 * WEIGHT).isEqualTo(stats.entries() * WEIGHT);
        assertThat(stats.entries()).isBetween(1L, 5L);
        assertThat(stats.evictions()).isEqualTo(20 - stats.entries());
        assertThat(blocks.stream().filter(b -> store.get(b.hash()).isPresent()).count()).isEqualTo(stats.entries());
    }

    @Test
    void reportsEveryBlockThatLeavesButNotOneReplacedByItsEqual() {
        List<BlockHash> removed = new java.util.ArrayList<>();
        LocalKvStore store = new LocalKvStore(5 * WEIGHT, block -> removed.add(block.hash()));
        List<KvBlock> blocks = IntStream.range(0, 20).mapToObj(i -> TestBlocks.random(SPEC, BLOCK, i)).toList();
        blocks.forEach(store::put);

        List<KvBlock> held = blocks.stream().filter(block -> store.contains(block.hash())).toList();
        assertThat(held).isNotEmpty();
        assertThat(removed).hasSize(20 - held.size()).doesNotHaveDuplicates()
                .doesNotContainAnyElementsOf(held.stream().map(KvBlock::hash).toList());
        store.put(held.get(0));
        assertThat(removed).hasSize(20 - held.size());
        store.invalidateAll();
        assertThat(removed).hasSize(20).containsExactlyInAnyOrderElementsOf(blocks.stream().map(KvBlock::hash).toList());
    }

    @Test
    void aBlockLargerThanTheWholeTierIsNotKept() {
        LocalKvStore store = new LocalKvStore(WEIGHT - 1);
        KvBlock block = TestBlocks.random(SPEC, BLOCK, 1);
        store.put(block);
        assertThat(store.get(block.hash())).isEmpty();
        assertThat(store.stats().bytes()).isZero();
    }

    @Test
    void frequentlyUsedBlocksOutliveAScanOfOneOffs() {
        LocalKvStore store = new LocalKvStore(50 * WEIGHT);
        KvBlock hot = TestBlocks.random(SPEC, BLOCK, -1);
        store.put(hot);
        for (int i = 0; i < 500; i++) {
            store.get(hot.hash());
            store.put(TestBlocks.random(SPEC, BLOCK, i));
        }
        assertThat(store.get(hot.hash())).contains(hot);
    }

    @Test
    void aFullTierAlwaysAdmitsTheNewestBlocks() {
        LocalKvStore store = new LocalKvStore(10 * WEIGHT);
        for (int i = 0; i < 100; i++) {
            KvBlock earlier = TestBlocks.random(SPEC, BLOCK, i);
            store.put(earlier);
            store.get(earlier.hash()); // read again: used more often than any new block will have been
        }
        List<KvBlock> newest = IntStream.range(0, 2).mapToObj(b -> TestBlocks.random(SPEC, BLOCK, 1000 + b)).toList();
        store.putChain(newest);

        assertThat(store.leading(newest.stream().map(KvBlock::hash).toList(), 0)).containsExactlyElementsOf(newest);
        assertThat(store.stats().bytes()).isLessThanOrEqualTo(10 * WEIGHT);
    }

    @Test
    void underPressureAChainLosesItsTailBeforeItsHead() {
        LocalKvStore store = new LocalKvStore(4 * WEIGHT);
        List<KvBlock> chain = IntStream.range(0, 6).mapToObj(b -> TestBlocks.random(SPEC, BLOCK, b)).toList();
        store.putChain(chain);
        List<BlockHash> hashes = chain.stream().map(KvBlock::hash).toList();
        assertThat(store.leading(hashes, 0)).containsExactlyElementsOf(chain.subList(0, 4));

        store.put(TestBlocks.random(SPEC, BLOCK, 100)); // read chains are protected: the head stays readable
        assertThat(store.leading(hashes, 0)).containsExactlyElementsOf(chain.subList(0, 3));
        assertThat(store.leading(hashes, 1)).containsExactlyElementsOf(chain.subList(1, 3));
    }

    @Test
    void blocksReadAgainSurviveAFloodOfOneOffs() {
        LocalKvStore store = new LocalKvStore(20 * WEIGHT);
        List<KvBlock> system = IntStream.range(0, 8).mapToObj(b -> TestBlocks.random(SPEC, BLOCK, -1L - b)).toList();
        system.forEach(store::put);
        system.forEach(b -> store.get(b.hash()));
        for (int i = 0; i < 1000; i++) {
            store.put(TestBlocks.random(SPEC, BLOCK, i));
        }
        assertThat(system).allMatch(b -> store.contains(b.hash()));
        assertThat(store.stats().entries()).isEqualTo(20);
    }

    @Test
    void theProtectedSegmentIsBoundedAndFallsBackToProbationLeastRecentlyUsedFirst() {
        LocalKvStore store = new LocalKvStore(10 * WEIGHT);
        List<KvBlock> read = IntStream.range(0, 10).mapToObj(b -> TestBlocks.random(SPEC, BLOCK, b)).toList();
        read.forEach(store::put);
        read.forEach(b -> store.get(b.hash())); // 80 % may stay protected: blocks 0 and 1 fall back to probation
        store.put(TestBlocks.random(SPEC, BLOCK, 100));
        store.put(TestBlocks.random(SPEC, BLOCK, 101));

        assertThat(store.contains(read.get(0).hash())).isFalse();
        assertThat(store.contains(read.get(1).hash())).isFalse();
        assertThat(read.subList(2, 10)).allMatch(b -> store.contains(b.hash()));
        assertThat(store.stats().evictions()).isEqualTo(2);
    }

    @Test
    void invalidatesEverything() {
        LocalKvStore store = new LocalKvStore(10 * WEIGHT);
        KvBlock a = TestBlocks.random(SPEC, BLOCK, 1);
        KvBlock b = TestBlocks.random(SPEC, BLOCK, 2);
        KvBlock c = TestBlocks.random(SPEC, BLOCK, 3);
        List.of(a, b, c).forEach(store::put);

        assertThat(store.get(b.hash())).isPresent();

        store.invalidateAll();
        assertThat(store.get(a.hash())).isEmpty();
        assertThat(store.get(c.hash())).isEmpty();
        assertThat(store.stats().entries()).isZero();
        assertThat(store.stats().bytes()).isZero();
        assertThat(store.stats().evictions()).as("invalidations are not evictions").isZero();
    }
}
