package dev.kvshare.model;

import ai.onnxruntime.OnnxJavaType;

/**
 * The shape of a model's KV cache: enough to allocate, restore or serialize it.
 *
 * @param dtype element type of the KV tensors (FLOAT, FLOAT16 or BFLOAT16)
 */
public record KvSpec(KvLayout layout, int layers, int kvHeads, int headDim, OnnxJavaType dtype) {

    /** Bytes the cache grows by per token: key and value, every layer. */
    public long bytesPerToken() {
        return 2L * layers * kvHeads * headDim * dtype.size;
    }

    /** Shape of one past/present tensor holding {@code seqLength} tokens. */
    public long[] tensorShape(int seqLength) {
        return tensorShape(1, seqLength);
    }

    /** Shape of one past/present tensor holding {@code rows} sequences {@code width} tokens wide. */
    public long[] tensorShape(int rows, int width) {
        return switch (layout) {
            case SPLIT -> new long[] {rows, kvHeads, width, headDim};
            case STACKED -> new long[] {2, rows, kvHeads, width, headDim};
        };
    }

    /** Key/value parts each tensor holds ahead of its batch axis: 1 when split, 2 when stacked. */
    public int partsPerTensor() {
        return layout == KvLayout.SPLIT ? 1 : 2;
    }

    /** Number of past tensors the model takes: two per layer when split, one when stacked. */
    public int tensorCount() {
        return layout == KvLayout.SPLIT ? 2 * layers : layers;
    }
}
