package dev.kvshare.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;

/**
 * Copies sequences' KV rows into left-padded batches: {@link #pack} makes a new batch of them (a prefill
 * pass's rows, a parked row), and {@link #writeRow} is the one row copy that a {@link KvArena}'s joins,
 * leaves and re-layouts are made of.
 */
final class KvPacker {

    private final OrtEnvironment env;
    private final KvSpec spec;
    private final LiveTensors live;

    KvPacker(OrtEnvironment env, KvSpec spec, LiveTensors live) {
        this.env = env;
        this.spec = spec;
        this.live = live;
    }

    /** A new batch holding {@code sources} in order, as wide as the longest. */
    BatchedKv pack(List<KvRow> sources) {
        int rows = sources.size();
        int width = sources.stream().mapToInt(KvRow::length).max().orElseThrow();
        int[] lengths = sources.stream().mapToInt(KvRow::length).toArray();
        // Leases keep every source alive while it is read, even if its owner closes it meanwhile.
        Map<KvCache, KvCache.Lease> held = new IdentityHashMap<>();
        List<OnnxTensor> tensors = new ArrayList<>(spec.tensorCount());
        List<ByteBuffer> buffers = new ArrayList<>(spec.tensorCount());
        try {
            for (KvRow source : sources) {
                held.computeIfAbsent(source.cache(), KvCache::lease);
            }
            for (int t = 0; t < spec.tensorCount(); t++) {
                Map<KvCache, ByteBuffer> read = new IdentityHashMap<>();
                ByteBuffer packed = ByteBuffer.allocateDirect((int) batchBytes(rows, width))
                        .order(ByteOrder.nativeOrder());
                for (int r = 0; r < rows; r++) {
                    KvRow source = sources.get(r);
                    int tensor = t;
                    ByteBuffer from = read.computeIfAbsent(source.cache(), cache -> held.get(cache).bytes(tensor));
                    writeRow(source, from, packed, rows, r, width);
                }
                tensors.add(OnnxTensor.createTensor(env, packed, spec.tensorShape(rows, width), spec.dtype()));
                buffers.add(packed);
            }
        } catch (OrtException | RuntimeException e) {
            tensors.forEach(OnnxTensor::close);
            if (e instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new InferenceException("Could not create batched past tensors", e);
        } finally {
            held.values().forEach(KvCache.Lease::close);
        }
        return new BatchedKv(new KvCache(tensors, buffers, width, () -> tensors.forEach(OnnxTensor::close), live),
                lengths);
    }

    /** Bytes of one past tensor of {@code rows} rows {@code width} tokens wide. */
    long batchBytes(int rows, int width) {
        return (long) spec.partsPerTensor() * rows * spec.kvHeads() * width * spec.headDim() * spec.dtype().size;
    }

    /**
     * Writes {@code source} (its tensor's bytes {@code from}) as row {@code r} of a tensor of {@code rows} rows
     * {@code width} wide laid out in {@code to}: its tokens in the last columns, zeros in the padding before
     * them (masked out, but a pass multiplies them, so they must be finite). Returns the bytes written.
     */
    long writeRow(KvRow source, ByteBuffer from, ByteBuffer to, int rows, int r, int width) {
        int tokenBytes = spec.headDim() * spec.dtype().size;
        int sourceWidth = source.cache().length();
        int bytes = source.length() * tokenBytes;
        int padding = (width - source.length()) * tokenBytes;
        long written = 0;
        for (int part = 0; part < spec.partsPerTensor(); part++) {
            for (int head = 0; head < spec.kvHeads(); head++) {
                int sourceStart = ((((part * source.rows() + source.row()) * spec.kvHeads() + head)
                        * sourceWidth) + sourceWidth - source.length()) * tokenBytes;
                int rowStart = (((part * rows + r) * spec.kvHeads() + head) * width) * tokenBytes;
                zero(to, rowStart, padding);
                to.put(rowStart + padding, from, sourceStart, bytes);
                written += padding + bytes;
            }
        }
        return written;
    }

    private static void zero(ByteBuffer to, int from, int bytes) {
        int at = from;
        for (int end = from + bytes; at + Long.BYTES <= end; at += Long.BYTES) {
            to.putLong(at, 0L);
        }
        for (int end = from + bytes; at < end; at++) {
            to.put(at, (byte) 0);
        }
    }
}
