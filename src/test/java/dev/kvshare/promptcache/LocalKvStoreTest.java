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
        LocalKvStore store = new LocalKvStore(5 * WEIGHT, removed::add);
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
