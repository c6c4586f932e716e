package dev.kvshare.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;

import dev.kvshare.generation.CachedDecoder;
import dev.kvshare.testsupport.TestModels;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** KV copied out of a cache block by block and assembled again decodes exactly like the original. */
class KvBlocksTest {

    @ParameterizedTest
    @ValueSource(strings = {TestModels.GPT2, TestModels.LLAMA, TestModels.BUNDLED})
    void blocksCopiedOutAndReassembledContinueExactlyLikeAColdRun(String name) throws Exception {
        int blockLength = 8;
        int[] prompt = new int[3 * blockLength + 5];
        Arrays.setAll(prompt, i -> (i * 37 + 11) % 900);
        try (ServedModel served = TestModels.load(name)) {
            DecoderModel model = served.decoder();
            KvBlocks blocks = model.kvBlocks();
            List<ByteBuffer> payloads = prefilledBlocks(model, prompt, blockLength, 3);
            assertThat(payloads).allSatisfy(p -> assertThat(p.capacity()).isEqualTo(blocks.payloadBytes(blockLength)));
            for (int restoredBlocks = 1; restoredBlocks <= 3; restoredBlocks++) {
                KvCache restored = blocks.assemble(payloads.subList(0, restoredBlocks), blockLength);
                assertThat(restored.length()).isEqualTo(restoredBlocks * blockLength);
                try (var resumed = new CachedDecoder(model, restored); var cold = new CachedDecoder(model)) {
                    assertThat(greedy(resumed, prompt)).as("%d restored blocks", restoredBlocks)
                            .containsExactly(greedy(cold, prompt));
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {TestModels.GPT2, TestModels.LLAMA})
    void aBlockInTheMiddleOfTheCacheIsCopiedFromItsOwnPositions(String name) throws Exception {
        int[] prompt = new int[24];
        Arrays.setAll(prompt, i -> (i * 13 + 3) % 900);
        try (ServedModel served = TestModels.load(name)) {
            DecoderModel model = served.decoder();
            KvBlocks blocks = model.kvBlocks();
            try (KvCache cache = model.extend(prompt, model.emptyCache()); KvCache.Lease held = cache.lease()) {
                List<ByteBuffer> all = blocks.copyOut(held, 0, 8, 3);
                assertThat(blocks.copyOut(held, 8, 8, 2)).containsExactly(all.get(1), all.get(2));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {TestModels.GPT2, TestModels.LLAMA})
    void aBatchRowIsCopiedFromItsOwnColumnsAfterItsPadding(String name) throws Exception {
        int[] longer = new int[30];
        int[] shorter = new int[19];
        Arrays.setAll(longer, i -> (i * 17 + 5) % 900);
        Arrays.setAll(shorter, i -> (i * 29 + 7) % 900);
        try (ServedModel served = TestModels.load(name)) {
            DecoderModel model = served.decoder();
            KvBlocks blocks = model.kvBlocks();
            try (KvCache a = model.extend(longer, model.emptyCache());
                 KvCache b = model.extend(shorter, model.emptyCache());
                 BatchedKv batch = model.pack(List.of(KvRow.of(a), KvRow.of(b)))) {
                var range = List.of(new TokenRange(3, 8), new TokenRange(11, 8));
                assertThat(blocks.copyOut(batch.row(1), range)).containsExactlyElementsOf(blocks.copyOut(KvRow.of(b), range));
                var tail = List.of(new TokenRange(16, 13));
                assertThat(blocks.copyOut(batch.row(0), tail)).containsExactlyElementsOf(blocks.copyOut(KvRow.of(a), tail));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {TestModels.GPT2, TestModels.LLAMA, TestModels.BUNDLED})
    void aLeadingPartOfAShortBlockContinuesExactlyLikeAColdRun(String name) throws Exception {
        int blockLength = 8;
        int[] prompt = new int[2 * blockLength + 7];
        Arrays.setAll(prompt, i -> (i * 41 + 2) % 900);
        try (ServedModel served = TestModels.load(name)) {
            DecoderModel model = served.decoder();
            KvBlocks blocks = model.kvBlocks();
            List<ByteBuffer> full;
            ByteBuffer tail;
            try (KvCache prefilled = model.extend(prompt, model.emptyCache());
                 KvCache.Lease held = prefilled.lease()) {
                full = blocks.copyOut(held, 0, blockLength, 2);
                tail = blocks.copyOut(held, 2 * blockLength, 7, 1).get(0);
            }
            KvCache restored = blocks.assemble(List.of(new KvBlocks.Piece(full.get(0), blockLength, blockLength),
                    new KvBlocks.Piece(full.get(1), blockLength, blockLength), new KvBlocks.Piece(tail, 7, 4)));
            assertThat(restored.length()).isEqualTo(2 * blockLength + 4);
            try (var resumed = new CachedDecoder(model, restored); var cold = new CachedDecoder(model)) {
                assertThat(greedy(resumed, prompt)).containsExactly(greedy(cold, prompt));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {TestModels.GPT2, TestModels.LLAMA})
    void aRestoreInTheMemoryOfAClosedOneHoldsItsOwnKvAndAnOpenOnesStaysIntact(String name) throws Exception {
        int blockLength = 8;
        int[] prompt = new int[3 * blockLength];
        Arrays.setAll(prompt, i -> (i * 23 + 9) % 900);
        try (ServedModel served = TestModels.load(name)) {
            DecoderModel model = served.decoder();
            KvBlocks blocks = model.kvBlocks();
            List<ByteBuffer> payloads = prefilledBlocks(model, prompt, blockLength, 3);
            blocks.assemble(payloads, blockLength).close(); // its memory is kept for the next restore
            try (KvCache shorter = blocks.assemble(payloads.subList(1, 2), blockLength);
                 KvCache other = blocks.assemble(payloads.subList(0, 2), blockLength)) {
                assertThat(readBack(blocks, shorter, blockLength)).containsExactly(payloads.get(1));
                assertThat(readBack(blocks, other, blockLength)).containsExactlyElementsOf(payloads.subList(0, 2));
            }
            KvCache restored = blocks.assemble(payloads.subList(0, 2), blockLength);
            try (var resumed = new CachedDecoder(model, restored); var cold = new CachedDecoder(model)) {
                assertThat(greedy(resumed, prompt)).containsExactly(greedy(cold, prompt));
            }
        }
    }

    /** The first {@code count} blocks of {@code prompt}'s KV, prefilled cold. */
    private static List<ByteBuffer> prefilledBlocks(DecoderModel model, int[] prompt, int blockLength, int count) {
        try (KvCache prefilled = model.extend(prompt, model.emptyCache()); KvCache.Lease held = prefilled.lease()) {
            return model.kvBlocks().copyOut(held, 0, blockLength, count);
        }
    }

    private static List<ByteBuffer> readBack(KvBlocks blocks, KvCache cache, int blockLength) {
        try (KvCache.Lease held = cache.lease()) {
            return blocks.copyOut(held, 0, blockLength, cache.length() / blockLength);
        }
    }

    private static int[] greedy(CachedDecoder decoder, int[] prompt) {
        int[] out = new int[10];
        float[] logits = decoder.start(prompt);
        for (int i = 0; i < out.length; i++) {
            out[i] = Logits.argmax(logits);
            logits = decoder.next(out[i]);
        }
        return out;
    }
}
