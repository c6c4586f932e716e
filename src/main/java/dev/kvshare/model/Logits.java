package dev.kvshare.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ShortBuffer;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.platform.Fp16Conversions;

/**
 * A reusable buffer for the logits of one position. ONNX Runtime writes straight into it (a pinned
 * output), so a decode step copies only {@code vocab} values and allocates nothing.
 */
public final class Logits implements AutoCloseable {

    private final OnnxJavaType type;
    private final ByteBuffer buffer;
    private final OnnxTensor tensor;
    private final float[] values;

    Logits(OrtEnvironment env, OnnxJavaType type, int vocabSize) throws OrtException {
        this.type = type;
        this.buffer = ByteBuffer.allocateDirect(vocabSize * type.size).order(ByteOrder.nativeOrder());
        this.tensor = OnnxTensor.createTensor(env, buffer, new long[] {1, 1, vocabSize}, type);
        this.values = new float[vocabSize];
        LiveTensors.opened(1);
    }

    OnnxTensor tensor() {
        return tensor;
    }

    /** The logits of the last step, as floats; the array is reused by the next step. */
    public float[] values() {
        switch (type) {
            case FLOAT -> buffer.asFloatBuffer().get(0, values);
            case FLOAT16, BFLOAT16 -> {
                ShortBuffer halves = buffer.asShortBuffer();
                boolean fp16 = type == OnnxJavaType.FLOAT16;
                for (int i = 0; i < values.length; i++) {
                    short bits = halves.get(i);
                    values[i] = fp16 ? Fp16Conversions.fp16ToFloat(bits) : Fp16Conversions.bf16ToFloat(bits);
                }
            }
            default -> throw new IllegalStateException("Unsupported logits type " + type);
        }
        return values;
    }

    public int vocabSize() {
        return values.length;
    }

    @Override
    public synchronized void close() {
        if (!tensor.isClosed()) {
            tensor.close();
            LiveTensors.closed(1);
        }
    }
}
