package dev.kvshare.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;

/**
 * The logits buffer of a batch whose passes run a changing number of rows: one direct buffer, and a
 * {@link Logits} over its start for the number of rows asked for last. A batch's rows join and leave at nearly
 * every change, and its prefill passes run one prompt, then several; a new buffer of {@code rows x vocab}
 * logits for each (9.7 MB for 16 rows of a 151,936-token vocabulary, zero-filled by Java and then faulted in by
 * the pass that writes it) cost a change more than the KV rows it copied. Another number of rows costs a new
 * tensor over the same memory; the buffer grows, with headroom, only when more rows are asked for than it holds,
 * and goes with {@link #close}. Owned by one thread (the batch scheduler's).
 */
public final class LogitsRoom implements AutoCloseable {

    private final OrtEnvironment env;
    private final OnnxJavaType type;
    private final int vocabSize;
    private final int maxRows;
    private final LiveTensors live;
    private ByteBuffer buffer;
    private int roomRows;
    private Logits current;

    LogitsRoom(OrtEnvironment env, OnnxJavaType type, int vocabSize, int maxRows, LiveTensors live) {
        if (maxRows < 1) {
            throw new IllegalArgumentException("A logits room holds at least one row");
        }
        this.env = env;
        this.type = type;
        this.vocabSize = vocabSize;
        this.maxRows = maxRows;
        this.live = live;
    }

    /**
     * Logits of {@code rows} rows (1 to the room's most) over the room's buffer: the ones handed out last if
     * they have as many rows, else new ones (those are closed).
     */
    public Logits rows(int rows) {
        if (rows < 1 || rows > maxRows) {
            throw new IllegalArgumentException("Logits of " + rows + " rows; this room holds 1 to " + maxRows);
        }
        if (current != null && current.rows() == rows) {
            return current;
        }
        if (rows > roomRows) {
            close();
            // Half as many rows again (at least two more), as a batch grows a few rows at a time.
            roomRows = Math.min(maxRows, rows + Math.max(2, rows / 2));
            buffer = ByteBuffer.allocateDirect(Logits.bytes(type, vocabSize, roomRows)).order(ByteOrder.nativeOrder());
        } else if (current != null) {
            current.close();
        }
        try {
            current = new Logits(env, type, vocabSize, rows, buffer, live);
        } catch (OrtException e) {
            current = null;
            throw new InferenceException("Could not allocate logits", e);
        }
        return current;
    }

    /** Closes the logits handed out last; the buffer goes with it (the next {@link #rows} makes one again). */
    @Override
    public void close() {
        if (current != null) {
            current.close();
            current = null;
        }
        buffer = null;
        roomRows = 0;
    }
}
