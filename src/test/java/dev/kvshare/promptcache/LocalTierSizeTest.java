package dev.kvshare.promptcache;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LocalTierSizeTest {

    private static final long GIB = 1L << 30;

    @Test
    void holdsTwoFullContextsPerConcurrentSequence() {
        // The bundled model: 2 KiB of KV per token, 3,072-token context, 4 sequences → 48 MiB.
        assertThat(LocalTierSize.forModel(2048, 3072, 4, 8 * GIB)).isEqualTo(48L << 20);
    }

    @Test
    void isBoundedByAQuarterOfTheHeap() {
        // Qwen2.5-0.5B fp16: 12 KiB per token of 32,768 context, 4 sequences → 3 GiB wanted; a 4 GiB heap gives 1.
        assertThat(LocalTierSize.forModel(12 << 10, 32_768, 4, 4 * GIB)).isEqualTo(GIB);
    }

    @Test
    void doesNotOverflowForHugeModelsAndContexts() {
        assertThat(LocalTierSize.forModel(Long.MAX_VALUE / 3, Integer.MAX_VALUE, 1000, 64 * GIB)).isEqualTo(16 * GIB);
    }
}
