package dev.kvshare.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;

/**
 * The inputs of one forward pass: the new token ids with their attention mask and positions (built here,
 * in direct buffers, and closed with this object) plus the past KV tensors (borrowed, not closed).
 */
final class StepInputs implements AutoCloseable {

    private final Map<String, OnnxTensorLike> inputs = new HashMap<>();
    private final List<OnnxTensor> owned = new ArrayList<>();

    StepInputs(OrtEnvironment env, DecoderIo io, int[] ids, KvCache past) throws OrtException {
        try {
            int pastLength = past.length();
            put(DecoderIo.INPUT_IDS, sequence(env, io.idType(), ids.length, i -> ids[i]));
            if (io.attentionMaskType().isPresent()) {
                put(DecoderIo.ATTENTION_MASK,
                        sequence(env, io.attentionMaskType().get(), pastLength + ids.length, i -> 1));
            }
            if (io.positionIdsType().isPresent()) {
                put(DecoderIo.POSITION_IDS,
                        sequence(env, io.positionIdsType().get(), ids.length, i -> pastLength + i));
            }
            if (io.useCacheBranch()) {
                // Merged optimum decoders switch to their with-past branch once there is a past.
                put(DecoderIo.USE_CACHE_BRANCH, OnnxTensor.createTensor(env, new boolean[] {pastLength > 0}));
            }
            if (io.numLogitsToKeep()) {
                put(DecoderIo.NUM_LOGITS_TO_KEEP, OnnxTensor.createTensor(env, 1L));
            }
            List<String> pastNames = io.pastInputs();
            for (int i = 0; i < pastNames.size(); i++) {
                inputs.put(pastNames.get(i), past.tensors().get(i));
            }
        } catch (OrtException | RuntimeException e) {
            close();
            throw e;
        }
    }

    Map<String, OnnxTensorLike> asMap() {
        return inputs;
    }

    private void put(String name, OnnxTensor tensor) {
        owned.add(tensor);
        LiveTensors.opened(1);
        inputs.put(name, tensor);
    }

    /** A {@code [1, length]} int32 or int64 tensor whose element i is {@code values.at(i)}. */
    private static OnnxTensor sequence(OrtEnvironment env, OnnxJavaType type, int length, IntIndexed values)
            throws OrtException {
        ByteBuffer buffer = ByteBuffer.allocateDirect(length * type.size).order(ByteOrder.nativeOrder());
        for (int i = 0; i < length; i++) {
            if (type == OnnxJavaType.INT64) {
                buffer.putLong(values.at(i));
            } else if (type == OnnxJavaType.INT32) {
                buffer.putInt(values.at(i));
            } else {
                throw new UnsupportedModelException("Integer inputs must be int32 or int64, not " + type);
            }
        }
        buffer.rewind();
        return OnnxTensor.createTensor(env, buffer, new long[] {1, length}, type);
    }

    @FunctionalInterface
    private interface IntIndexed {
        int at(int index);
    }

    @Override
    public void close() {
        owned.forEach(OnnxTensor::close);
        LiveTensors.closed(owned.size());
        owned.clear();
    }
}
