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
 *
 * <p>A pass runs one or more rows. Each row's past is left-padded to the past's width: row {@code r} holds
 * its {@code pastLengths[r]} tokens in the last columns, so the new tokens of every row land in the same
 * columns. The attention mask hides the padding and the position ids count only a row's own tokens, which
 * is what lets sequences of different lengths share one past tensor.
 */
final class StepInputs implements AutoCloseable {

    private final Map<String, OnnxTensorLike> inputs = new HashMap<>();
    private final List<OnnxTensor> owned = new ArrayList<>();
    private final LiveTensors live;

    /**
     * @param ids         the new tokens, row after row, the same number per row
     * @param pastLengths each row's own tokens in {@code past}, whose width is {@code past.length()}
     */
    StepInputs(OrtEnvironment env, DecoderIo io, int[] ids, int[] pastLengths, KvCache past, LiveTensors live)
            throws OrtException {
        this.live = live;
        try {
            int rows = pastLengths.length;
            int width = past.length();
            int perRow = ids.length / rows;
            put(DecoderIo.INPUT_IDS, matrix(env, io.idType(), rows, perRow, (r, i) -> ids[r * perRow + i]));
            if (io.attentionMaskType().isPresent()) {
                put(DecoderIo.ATTENTION_MASK, matrix(env, io.attentionMaskType().get(), rows, width + perRow,
                        (r, i) -> i >= width - pastLengths[r] ? 1 : 0));
            }
            if (io.positionIdsType().isPresent()) {
                put(DecoderIo.POSITION_IDS,
                        matrix(env, io.positionIdsType().get(), rows, perRow, (r, i) -> pastLengths[r] + i));
            }
            if (io.useCacheBranch()) {
                // Merged optimum decoders switch to their with-past branch once there is a past.
                put(DecoderIo.USE_CACHE_BRANCH, OnnxTensor.createTensor(env, new boolean[] {width > 0}));
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
        live.opened(1);
        inputs.put(name, tensor);
    }

    /** A {@code [rows, length]} int32 or int64 tensor whose element (r, i) is {@code values.at(r, i)}. */
    private static OnnxTensor matrix(OrtEnvironment env, OnnxJavaType type, int rows, int length,
                                     IntIndexed values) throws OrtException {
        ByteBuffer buffer = ByteBuffer.allocateDirect(rows * length * type.size).order(ByteOrder.nativeOrder());
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < length; i++) {
                if (type == OnnxJavaType.INT64) {
                    buffer.putLong(values.at(r, i));
                } else if (type == OnnxJavaType.INT32) {
                    buffer.putInt(values.at(r, i));
                } else {
                    throw new UnsupportedModelException("Integer inputs must be int32 or int64, not " + type);
                }
            }
        }
        buffer.rewind();
        return OnnxTensor.createTensor(env, buffer, new long[] {rows, length}, type);
    }

    @FunctionalInterface
    private interface IntIndexed {
        int at(int row, int index);
    }

    @Override
    public void close() {
        owned.forEach(OnnxTensor::close);
        live.closed(owned.size());
        owned.clear();
    }
}
