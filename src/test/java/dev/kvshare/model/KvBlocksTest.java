package dev.kvshare.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;

import ai.onnxruntime.OrtEnvironment;
import dev.kvshare.generation.CachedDecoder;
import dev.kvshare.generation.Sampler;
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
            KvBlocks blocks = new KvBlocks(OrtEnvironment.getEnvironment(), model.io().kv());
            List<ByteBuffer> payloads;
            try (KvCache prefilled = model.extend(prompt, model.emptyCache()); KvCache.Lease held = prefilled.lease()) {
                payloads = blocks.copyOut(held, 0, blockLength, 3);
            }
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
            KvBlocks blocks = new KvBlocks(OrtEnvironment.getEnvironment(), model.io().kv());
            try (KvCache cache = model.extend(prompt, model.emptyCache()); KvCache.Lease held = cache.lease()) {
                List<ByteBuffer> all = blocks.copyOut(held, 0, 8, 3);
                assertThat(blocks.copyOut(held, 8, 8, 2)).containsExactly(all.get(1), all.get(2));
            }
        }
    }

    private static int[] greedy(CachedDecoder decoder, int[] prompt) {
        int[] out = new int[10];
        float[] logits = decoder.start(prompt);
        for (int i = 0; i < out.length; i++) {
            out[i] = Sampler.argmax(logits);
            logits = decoder.next(out[i]);
        }
        return out;
    }
}
