package dev.kvshare.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.List;

import dev.kvshare.testsupport.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A KV cache used after it was closed fails in Java, never in ONNX Runtime: ORT's Java API would hand the
 * freed native tensor to {@code OrtSession.run}, a use after free that crashes the JVM (the sequence below
 * did, before the guard) or silently reads garbage.
 */
class KvCacheGuardTest {

    private static ServedModel served;
    private static DecoderModel model;

    @BeforeAll
    static void load() {
        served = TestModels.load(TestModels.BUNDLED);
        model = served.decoder();
    }

    @AfterAll
    static void close() throws Exception {
        served.close();
    }

    @Test
    void aClosedPastIsRefusedBeforeItReachesOnnxRuntime() {
        KvCache prefix = model.extend(new int[] {5, 6, 7, 8}, model.emptyCache());
        prefix.close();

        try (Logits logits = model.newLogits()) {
            assertThatThrownBy(() -> model.step(9, prefix, logits)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("was closed");
            assertThatThrownBy(() -> model.extend(new int[] {9, 10}, prefix))
                    .isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void aClosedBatchOrRepackSourceIsRefusedBeforeItReachesOnnxRuntime() {
        try (Logits logits = model.newLogits(2); KvCache shorter = model.extend(new int[] {5}, model.emptyCache());
             KvCache longer = model.extend(new int[] {5, 6, 7}, model.emptyCache())) {
            BatchedKv batch = model.pack(List.of(KvRow.of(shorter), KvRow.of(longer)));
            batch.close();
            assertThatThrownBy(() -> model.stepBatch(new int[] {8, 8}, batch, logits))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("was closed");
            assertThatThrownBy(() -> model.pack(List.of(batch.row(0)))).isInstanceOf(IllegalStateException.class);
            shorter.close();
            assertThatThrownBy(() -> model.pack(List.of(KvRow.of(longer), KvRow.of(shorter))))
                    .isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void batchedPassesAndRepacksLeaveNoNativeTensorsBehind() {
        long before = model.liveTensors().count();
        try (Logits logits = model.newLogits(2); KvCache shorter = model.extend(new int[] {5}, model.emptyCache());
             KvCache longer = model.extend(new int[] {5, 6, 7}, model.emptyCache());
             BatchedKv batch = model.pack(List.of(KvRow.of(shorter), KvRow.of(longer)));
             BatchedKv next = model.stepBatch(new int[] {8, 8}, batch, logits);
             BatchedKv repacked = model.pack(List.of(next.row(1)))) {
            assertThat(next.width()).isEqualTo(4);
            assertThat(repacked.width()).as("the longer row alone, no padding").isEqualTo(4);
            assertThat(next.paddingShare()).isEqualTo(2 / 8.0);
        }
        assertThat(model.liveTensors().count()).isEqualTo(before);
    }

    @Test
    void aRestoredPrefixClosedTwiceIsReleasedOnce() {
        KvBlocks blocks = model.kvBlocks();
        List<ByteBuffer> payloads;
        try (KvCache prefilled = model.extend(new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, model.emptyCache());
             KvCache.Lease held = prefilled.lease()) {
            payloads = blocks.copyOut(held, 0, 4, 2);
        }
        long before = model.liveTensors().count();
        KvCache restored = blocks.assemble(payloads, 4);
        assertThat(model.liveTensors().count() - before).isEqualTo(model.io().pastInputs().size());

        restored.close();
        restored.close();

        assertThat(model.liveTensors().count()).isEqualTo(before);
    }

    @Test
    void aCloseDuringAPassTakesEffectWhenThePassEnds() {
        KvCache prefix = model.extend(new int[] {5, 6, 7}, model.emptyCache());
        long before = model.liveTensors().count();
        KvCache.Lease pass = prefix.lease();

        prefix.close(); // e.g. a hang-up handled on another thread while the pass runs

        assertThat(prefix.isClosed()).isTrue();
        assertThat(model.liveTensors().count()).as("still held by the pass").isEqualTo(before);
        pass.close();
        assertThat(model.liveTensors().count()).isEqualTo(before - model.io().pastInputs().size());
    }

    @Test
    void passesLeaveNoNativeTensorsBehind() {
        long before = model.liveTensors().count();
        try (Logits logits = model.newLogits(); KvCache prefix = model.extend(new int[] {1, 2, 3}, model.emptyCache());
             KvCache next = model.step(4, prefix, logits)) {
            assertThat(next.length()).isEqualTo(4);
        }
        assertThat(model.liveTensors().count()).isEqualTo(before);
    }
}
