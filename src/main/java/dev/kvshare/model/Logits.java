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
 * A reusable buffer for the logits of one position per row: one row for a sequence's own pass, one per
 * sequence for a batched pass. ONNX Runtime writes straight into it (a pinned output), so a decode step
 * copies only {@code vocab} values per row and allocates nothing.
 */
public final class Logits implements AutoCloseable {

    private final OnnxJavaType type;
    private final ByteBuffer buffer;
    private final OnnxTensor tensor;
    private final int rows;
    private final float[] values;
    private final LiveTensors live;

    Logits(OrtEnvironment env, OnnxJavaType type, int vocabSize, int rows, LiveTensors live) throws OrtException {
        this(env, type, vocabSize, rows,
                ByteBuffer.allocateDirect(bytes(type, vocabSize, rows)).order(ByteOrder.nativeOrder()), live);
    }

    /** Over the start of {@code buffer} (direct, at least {@link #bytes} long), which it does not own. */
    Logits(OrtEnvironment env, OnnxJavaType type, int vocabSize, int rows, ByteBuffer buffer, LiveTensors live)
            throws OrtException {
        this.type = type;
        this.rows = rows;
        this.buffer = buffer.slice(0, bytes(type, vocabSize, rows)).order(ByteOrder.nativeOrder());
        this.tensor = OnnxTensor.createTensor(env, this.buffer, new long[] {rows, 1, vocabSize}, type);
        this.values = new float[vocabSize];
        this.live = live;
        live.opened(1);
    }

    /** Bytes of {@code rows} rows of logits. */
    static int bytes(OnnxJavaType type, int vocabSize, int rows) {
        return rows * vocabSize * type.size;
    }

    /** The most likely token; the lowest id wins a tie. */
    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    OnnxTensor tensor() {
        return tensor;
    }

    /** The logits of the last step (its first row), as floats; the array is reused by the next step. */
    public float[] values() {
        return copyRow(0, values);
    }

    /** Copies the logits of {@code row} into {@code into} (a {@code vocabSize} array) and returns it. */
    public float[] copyRow(int row, float[] into) {
        int from = row * values.length;
        switch (type) {
            case FLOAT -> buffer.asFloatBuffer().get(from, into);
            case FLOAT16, BFLOAT16 -> {
                ShortBuffer halves = buffer.asShortBuffer();
                boolean fp16 = type == OnnxJavaType.FLOAT16;
                for (int i = 0; i < into.length; i++) {
                    short bits = halves.get(from + i);
                    into[i] = fp16 ? Fp16Conversions.fp16ToFloat(bits) : Fp16Conversions.bf16ToFloat(bits);
                }
            }
            default -> throw new IllegalStateException("Unsupported logits type " + type);
        }
        return into;
    }

    public int vocabSize() {
        return values.length;
    }

    /** Rows this buffer holds: the batch size of the passes it serves. */
    public int rows() {
        return rows;
    }

    @Override
    public synchronized void close() {
        if (!tensor.isClosed()) {
            tensor.close();
            live.closed(1);
        }
    }
}
