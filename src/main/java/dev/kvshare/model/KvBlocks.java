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
    private final LiveTensors live;
    private final RestoreBuffers restoreBuffers = new RestoreBuffers();

    /** See {@link DecoderModel#kvBlocks()}. */
    KvBlocks(OrtEnvironment env, KvSpec spec, LiveTensors live) {
        this.env = env;
        this.spec = spec;
        this.live = live;
        this.partsPerTensor = spec.partsPerTensor();
    }

    /** Bytes of one block's payload. */
    public int payloadBytes(int blockLength) {
        return Math.toIntExact(spec.bytesPerToken() * blockLength);
    }

    /**
     * Copies {@code blockCount} consecutive blocks of {@code blockLength} tokens, starting at token
     * {@code fromToken}, out of the single sequence's cache {@code held} holds into new heap buffers. Any thread
     * may call it while the lease lasts.
     */
    public List<ByteBuffer> copyOut(KvCache.Lease held, int fromToken, int blockLength, int blockCount) {
        List<TokenRange> ranges = new ArrayList<>(blockCount);
        for (int b = 0; b < blockCount; b++) {
            ranges.add(new TokenRange(fromToken + b * blockLength, blockLength));
        }
        return copyOut(held, ranges);
    }

    /**
     * Copies each range of the single sequence's cache {@code held} holds into a new heap buffer laid out as a
     * payload of its length. Any thread may call it while the lease lasts.
     */
    public List<ByteBuffer> copyOut(KvCache.Lease held, List<TokenRange> ranges) {
        return copyOut(held, 1, 0, held.length(), ranges);
    }

    /**
     * Copies each range of one sequence's row (a batch's row counts its tokens from its first column after the
     * left padding) into a new heap buffer laid out as a payload of its length. The cache is leased while it is
     * read, so a close from another thread frees it afterwards, not under the copy.
     */
    public List<ByteBuffer> copyOut(KvRow row, List<TokenRange> ranges) {
        try (KvCache.Lease held = row.cache().lease()) {
            return copyOut(held, row.rows(), row.row(), row.length(), ranges);
        }
    }

    /**
     * Reads every tensor once: in place where it lies in Java buffers (a batch's, {@link KvArena}), else a copy
     * of all of it, every row and column ({@link KvCache.Lease#bytes}).
     */
    private List<ByteBuffer> copyOut(KvCache.Lease held, int rows, int row, int rowLength, List<TokenRange> ranges) {
        for (TokenRange range : ranges) {
            if (range.from() < 0 || range.length() < 0 || range.from() + range.length() > rowLength) {
                throw new IllegalArgumentException("The cache holds " + rowLength + " tokens, not "
                        + (range.from() + range.length()));
            }
        }
        List<ByteBuffer> payloads = new ArrayList<>(ranges.size());
        for (TokenRange range : ranges) {
            payloads.add(ByteBuffer.allocate(payloadBytes(range.length())).order(ByteOrder.nativeOrder()));
        }
        int rowBytes = spec.headDim() * spec.dtype().size;
        int width = held.length();
        int padding = width - rowLength;
        for (int t = 0; t < held.tensors().size(); t++) {
            ByteBuffer tensor = held.bytes(t);
            for (int part = 0; part < partsPerTensor; part++) {
                for (int head = 0; head < spec.kvHeads(); head++) {
                    int headStart = (((part * rows + row) * spec.kvHeads() + head) * width + padding) * rowBytes;
                    int slot = (t * partsPerTensor + part) * spec.kvHeads() + head;
                    for (int r = 0; r < ranges.size(); r++) {
                        TokenRange range = ranges.get(r);
                        int bytes = range.length() * rowBytes;
                        payloads.get(r).put(slot * bytes, tensor, headStart + range.from() * rowBytes, bytes);
                    }
                }
            }
        }
        return payloads;
    }

    /** A new cache covering the given blocks in order. */
    public KvCache assemble(List<ByteBuffer> payloads, int blockLength) {
        return assemble(payloads.stream().map(payload -> new Piece(payload, blockLength, blockLength)).toList());
    }

    /**
     * A piece of a cache: the first {@code used} tokens of a payload laid out for {@code length} tokens (a
     * block, or a leading part of one).
     */
    public record Piece(ByteBuffer payload, int length, int used) {

        public Piece {
            if (used < 0 || used > length) {
                throw new IllegalArgumentException("Cannot use " + used + " tokens of a " + length + "-token payload");
            }
        }
    }

    /**
     * A new cache covering the given pieces in order. Its tensors' memory goes back to {@link RestoreBuffers} for
     * the next restore when the cache is released.
     */
    public KvCache assemble(List<Piece> pieces) {
        int tokens = pieces.stream().mapToInt(Piece::used).sum();
        int rowBytes = spec.headDim() * spec.dtype().size;
        int tensorBytes = pastTensorBytes(tokens);
        List<ByteBuffer> memory = restoreBuffers.take(spec.tensorCount(), tensorBytes);
        List<OnnxTensor> tensors = new ArrayList<>(spec.tensorCount());
        Runnable release = () -> {
            tensors.forEach(OnnxTensor::close);
            restoreBuffers.giveBack(memory); // the tensors were its only users
        };
        try {
            for (int t = 0; t < spec.tensorCount(); t++) {
                ByteBuffer tensor = memory.get(t).slice(0, tensorBytes).order(ByteOrder.nativeOrder());
                for (int part = 0; part < partsPerTensor; part++) {
                    for (int head = 0; head < spec.kvHeads(); head++) {
                        int at = (part * spec.kvHeads() + head) * tokens * rowBytes;
                        int slot = (t * partsPerTensor + part) * spec.kvHeads() + head;
                        for (Piece piece : pieces) {
                            int bytes = piece.used() * rowBytes;
                            tensor.put(at, piece.payload(), slot * piece.length() * rowBytes, bytes);
                            at += bytes;
                        }
                    }
                }
                tensors.add(OnnxTensor.createTensor(env, tensor, spec.tensorShape(tokens), spec.dtype()));
            }
        } catch (OrtException | RuntimeException e) {
            release.run();
            if (e instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new InferenceException("Could not create past tensors from cached KV", e);
        }
        return new KvCache(tensors, tokens, release::run, live);
    }

    /**
     * Maps the memory a restore of up to {@code tokens} tokens needs now, unless a restore that large has it
     * already: called when a sequence of that length is stored, so that its page faults (~150 ms of CPU for 2,047
     * tokens of a Qwen2.5-0.5B shape on the 2-core test machine) fall on the request that stored it, which
     * computed the whole prompt, rather than on the next one, which restores it to compute one token. Held as the
     * idle restore memory, as after such a restore.
     */
    public void prepareRestore(int tokens) {
        restoreBuffers.reserve(spec.tensorCount(), pastTensorBytes(tokens));
    }

    /** Direct memory restores (and {@link #prepareRestore}) have allocated so far rather than reused. */
    public long restoreBytesAllocated() {
        return restoreBuffers.bytesAllocated();
    }

    private int pastTensorBytes(int tokens) {
        return partsPerTensor * spec.kvHeads() * tokens * spec.headDim() * spec.dtype().size;
    }
}
