package dev.kvshare.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvshare.testsupport.TestModels;
import org.junit.jupiter.api.Test;

/** The batching probe's verdict on measured figures; QuantizedExportsTest runs it on quantized exports. */
class BatchProbeTest {

    /** The Llama reference with its attention mask replaced by ones (README beside it): padding is attended. */
    @Test
    void anExportThatAttendsToPaddingIsStillRefused() throws Exception {
        try (ServedModel model = TestModels.load(TestModels.LLAMA, "model_ignores_padding.onnx")) {
            assertThat(model.decoder().batchesRowsOfDifferentLengths()).isFalse();
        }
    }

    @Test
    void anFp32ExportBatchesWithinTheLastBitsOnly() {
        assertThat(new BatchProbe(3e-5, 1e-7, true).batches()).isTrue();
        assertThat(new BatchProbe(3e-5, 1e-7, true).tolerance()).isEqualTo(BatchProbe.FP32_TOLERANCE);
        assertThat(new BatchProbe(2e-3, 1e-7, true).batches()).as("fp32 rows off by 2e-3").isFalse();
    }

    @Test
    void aQuantizedExportBatchesWithinItsOwnNoiseBetweenPassShapes() {
        assertThat(new BatchProbe(0.0048, 0.0030, true).batches()).as("dynamic int8").isTrue();
        assertThat(new BatchProbe(0.0048, 0.0030, true).tolerance()).isEqualTo(4 * 0.0030);
        assertThat(new BatchProbe(0.05, 0.0030, true).batches()).as("padding mishandled").isFalse();
    }

    @Test
    void aRowThatPicksAnotherTokenBatchedNeverBatches() {
        assertThat(new BatchProbe(0.001, 0.0030, false).batches()).isFalse();
    }

    @Test
    void argmaxIsTheFirstLargest() {
        assertThat(Logits.argmax(new float[] {0.1f, 0.7f, 0.7f, -1f})).isEqualTo(1);
        assertThat(BatchProbe.maxAbsDifference(new float[] {1f, -2f}, new float[] {1.5f, -1f})).isEqualTo(1.0);
    }
}
