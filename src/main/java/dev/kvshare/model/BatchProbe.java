package dev.kvshare.model;

/**
 * What the start-up batching probe measured (see {@link DecoderModel#batchesRowsOfDifferentLengths()}) and its
 * verdict. A batched pass may change a row's logits only as much as the export's own arithmetic changes with
 * the shape of a pass: an fp32 export by the last bits, a quantized one by more (dynamic int8 takes one
 * activation scale per pass, MatMulNBits at accuracy level 4 quantizes activations per block, fp16 rounds the
 * KV), and padding an export mishandles by far more. So the tolerance is {@link #NOISE_MARGIN} times that noise,
 * at least {@link #FP32_TOLERANCE}, and each row must still pick the argmax it picks alone.
 *
 * @param batchedVsAlone max |Δlogit| between rows of different lengths batched and each row alone
 * @param shapeNoise     max |Δlogit| between one sequence's logits after its prefix ran as one pass and after it
 *                       ran a token a pass: no padding, only the export's own dependence on the pass's shape
 * @param argmaxAgrees   whether every batched row picks the argmax it picks alone
 */
public record BatchProbe(double batchedVsAlone, double shapeNoise, boolean argmaxAgrees) {

    /** fp32 kernels differ in the last bits between batch shapes. */
    static final double FP32_TOLERANCE = 1e-4;
    /** Batching may cost a few times the noise of one change of shape (it changes the shape of every pass). */
    static final double NOISE_MARGIN = 4;

    public double tolerance() {
        return Math.max(FP32_TOLERANCE, NOISE_MARGIN * shapeNoise);
    }

    public boolean batches() {
        return argmaxAgrees && batchedVsAlone <= tolerance();
    }

    static double maxAbsDifference(float[] a, float[] b) {
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs(a[i] - b[i]));
        }
        return worst;
    }
}
