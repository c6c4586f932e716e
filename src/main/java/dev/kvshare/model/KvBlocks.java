package dev.kvshare.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;

/**
 * Moves KV between a {@link KvCache}'s native tensors and prompt-cache block payloads. A block payload
 * holds, for each layer, the key then the value of {@code blockLength} tokens, each {@code [kv_heads,
 * block_length, head_dim]} in the tensors' native byte order — the same for split and stacked exports, so
 * the cache format does not depend on how a model names its inputs. Restoring concatenates blocks along the
 * sequence axis into fresh past tensors.
 */
public final class KvBlocks {

    private final OrtEnvironment env;
    private final KvSpec spec;
    private final int partsPerTensor;

    public KvBlocks(OrtEnvironment env, KvSpec spec) {
        this.env = env;
        this.spec = spec;
        this.partsPerTensor = spec.partsPerTensor();
    }

    /** Bytes of one block's payload. */
    public int payloadBytes(int blockLength) {
        return Math.toIntExact(spec.bytesPerToken() * blockLength);
    }

    /**
     * Copies {@code blockCount} consecutive blocks of {@code blockLength} tokens, starting at token
     * {@code fromToken}, out of the cache {@code held} holds into new heap buffers. Any thread may call it while
     * the lease lasts.
     */
    public List<ByteBuffer> copyOut(KvCache.Lease held, int fromToken, int blockLength, int blockCount) {
        int length = held.length();
        if (fromToken + blockLength * blockCount > length) {
            throw new IllegalArgumentException("The cache holds " + length + " tokens, not "
                    + (fromToken + blockLength * blockCount));
        }
        List<ByteBuffer> blocks = new ArrayList<>(blockCount);
        for (int b = 0; b < blockCount; b++) {
            blocks.add(ByteBuffer.allocate(payloadBytes(blockLength)).order(ByteOrder.nativeOrder()));
        }
        int rowBytes = spec.headDim() * spec.dtype().size;
        int blockBytes = blockLength * rowBytes;
        List<OnnxTensor> tensors = held.tensors();
        for (int t = 0; t < tensors.size(); t++) {
            ByteBuffer tensor = tensors.get(t).getByteBuffer();
            for (int part = 0; part < partsPerTensor; part++) {
                for (int head = 0; head < spec.kvHeads(); head++) {
                    int headStart = ((part * spec.kvHeads() + head) * length + fromToken) * rowBytes;
                    int payloadOffset = ((t * partsPerTensor + part) * spec.kvHeads() + head) * blockBytes;
                    for (int b = 0; b < blockCount; b++) {
                        blocks.get(b).put(payloadOffset, tensor, headStart + b * blockBytes, blockBytes);
                    }
                }
            }
        }
        return blocks;
    }

    /** A cache covering the given blocks in order; the caller owns it. */
    public KvCache assemble(List<ByteBuffer> payloads, int blockLength) {
        int tokens = payloads.size() * blockLength;
        int rowBytes = spec.headDim() * spec.dtype().size;
        int blockBytes = blockLength * rowBytes;
        List<OnnxTensor> tensors = new ArrayList<>(spec.tensorCount());
        try {
            for (int t = 0; t < spec.tensorCount(); t++) {
                ByteBuffer tensor = ByteBuffer.allocateDirect(partsPerTensor * spec.kvHeads() * tokens * rowBytes)
                        .order(ByteOrder.nativeOrder());
                for (int part = 0; part < partsPerTensor; part++) {
                    for (int head = 0; head < spec.kvHeads(); head++) {
                        int headStart = (part * spec.kvHeads() + head) * tokens * rowBytes;
                        int payloadOffset = ((t * partsPerTensor + part) * spec.kvHeads() + head) * blockBytes;
                        for (int b = 0; b < payloads.size(); b++) {
                            tensor.put(headStart + b * blockBytes, payloads.get(b), payloadOffset, blockBytes);
                        }
                    }
                }
                tensors.add(OnnxTensor.createTensor(env, tensor, spec.tensorShape(tokens), spec.dtype()));
            }
        } catch (OrtException e) {
            tensors.forEach(OnnxTensor::close);
            throw new InferenceException("Could not create past tensors from cached KV", e);
        }
        return new KvCache(tensors, tokens, () -> tensors.forEach(OnnxTensor::close));
    }
}
