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
 * Copies sequences' KV rows into one new left-padded batch: the repack done when a batch's membership
 * changes. ONNX Runtime's outputs cannot be written from Java, so a row joining or leaving costs a copy of
 * every row kept; between changes, each pass's present tensors are the next pass's past as they are.
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
        int rowBytes = spec.headDim() * spec.dtype().size;
        int parts = spec.partsPerTensor();
        // Leases keep every source alive while it is read, even if its owner closes it meanwhile.
        Map<KvCache, List<OnnxTensor>> held = new IdentityHashMap<>();
        List<KvCache.Lease> leases = new ArrayList<>();
        List<OnnxTensor> tensors = new ArrayList<>(spec.tensorCount());
        try {
            for (KvRow source : sources) {
                if (!held.containsKey(source.cache())) {
                    leases.add(source.cache().lease());
                    held.put(source.cache(), source.cache().tensors());
                }
            }
            for (int t = 0; t < spec.tensorCount(); t++) {
                // Each source tensor is read once (getByteBuffer copies all of it out of native memory).
                Map<KvCache, ByteBuffer> read = new IdentityHashMap<>();
                ByteBuffer packed = ByteBuffer.allocateDirect(parts * rows * spec.kvHeads() * width * rowBytes)
                        .order(ByteOrder.nativeOrder());
                for (int r = 0; r < rows; r++) {
                    KvRow source = sources.get(r);
                    int tensor = t;
                    ByteBuffer from = read.computeIfAbsent(source.cache(),
                            cache -> held.get(cache).get(tensor).getByteBuffer());
                    int sourceWidth = source.cache().length();
                    int bytes = source.length() * rowBytes;
                    for (int part = 0; part < parts; part++) {
                        for (int head = 0; head < spec.kvHeads(); head++) {
                            int sourceStart = ((((part * source.rows() + source.row()) * spec.kvHeads() + head)
                                    * sourceWidth) + sourceWidth - source.length()) * rowBytes;
                            int targetStart = ((((part * rows + r) * spec.kvHeads() + head) * width)
                                    + width - source.length()) * rowBytes;
                            packed.put(targetStart, from, sourceStart, bytes);
                        }
                    }
                }
                tensors.add(OnnxTensor.createTensor(env, packed, spec.tensorShape(rows, width), spec.dtype()));
            }
        } catch (OrtException | RuntimeException e) {
            tensors.forEach(OnnxTensor::close);
            if (e instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new InferenceException("Could not create batched past tensors", e);
        } finally {
            leases.forEach(KvCache.Lease::close);
        }
        return new BatchedKv(new KvCache(tensors, width, () -> tensors.forEach(OnnxTensor::close), live), lengths);
    }
}
