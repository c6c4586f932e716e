package dev.kvshare.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;

/**
 * The running batch's past KV, in buffers of its own that ONNX Runtime writes each pass's present into (pinned
 * outputs), so that rows join and leave in place instead of the whole batch being copied.
 *
 * <p>Each past tensor has two buffers: the past, {@code [rows, kv_heads, width, head_dim]} left-padded as a
 * {@link BatchedKv} is, and a spare that the next pass writes its present (one column wider) into; then they
 * swap. Both have room for some rows and columns beyond the current ones (up to {@code maxRows} rows), so with
 * the split layout (rows on the outermost axis, each row one contiguous block) a joining row is written after
 * the last (only its own KV copied), and a leaving row's block is overwritten by the last row's (one row
 * copied; the rows' order changes, {@link #change} says how). A change re-lays every row out, into the spare
 * at the width of the longest row, only when it must or should: a joining row longer than the width (every
 * row's padding grows), the stacked layout (its value half starts after every row's key half), or padding that
 * would take more than half of the past's columns after a long row left (a pass attends to padding too).
 *
 * <p>Owned by one thread (the batch scheduler's). A {@link #row} is valid until the next pass or change.
 */
public final class KvArena implements AutoCloseable {

    /** Past columns that may be padding after an in-place change; beyond, the rows are re-laid out. */
    static final double MAX_PADDING_SHARE = 0.5;

    private final OrtEnvironment env;
    private final KvSpec spec;
    private final KvPacker packer;
    private final LiveTensors live;
    private final int maxRows;
    private ByteBuffer[] past;
    private ByteBuffer[] spare;
    private int[] lengths = new int[0];
    private int width;
    /** Tensors over the past's rows; null while no row is held. */
    private KvCache view;
    private long copied;

    KvArena(OrtEnvironment env, KvSpec spec, KvPacker packer, LiveTensors live, int maxRows) {
        this.env = env;
        this.spec = spec;
        this.packer = packer;
        this.live = live;
        this.maxRows = maxRows;
        this.past = new ByteBuffer[spec.tensorCount()];
        this.spare = new ByteBuffer[spec.tensorCount()];
    }

    public int rows() {
        return lengths.length;
    }

    /** Columns of every row: at least the longest row's length. */
    public int width() {
        return width;
    }

    int[] lengths() {
        return lengths.clone();
    }

    /** The past's tensors, for a pass. */
    KvCache past() {
        return view;
    }

    /** The share of the past's columns that are padding: the attention a pass spends on nothing. */
    public double paddingShare() {
        return paddingShare(lengths, width);
    }

    /** Row {@code r}, as a source for {@link DecoderModel#pack}; valid until the next pass or change. */
    public KvRow row(int r) {
        return new KvRow(view, rows(), r, lengths[r]);
    }

    /** Bytes of KV the last {@link #change} wrote: the rows it moved or added, and their padding. */
    public long bytesCopied() {
        return copied;
    }

    /**
     * Drops rows {@code leaving} and adds {@code joining} (sequences' own caches, read under a lease). Returns
     * the new order: row {@code r} is the old row {@code order[r]} when that is {@code >= 0}, otherwise
     * joining row {@code -1 - order[r]}.
     */
    public int[] change(List<Integer> leaving, List<KvRow> joining) {
        List<Integer> order = new ArrayList<>();
        for (int r = 0; r < rows(); r++) {
            order.add(r);
        }
        List<Integer> holes = new ArrayList<>(leaving);
        holes.sort((a, b) -> b - a);
        for (int hole : holes) {
            order.set(hole, order.get(order.size() - 1)); // the last row fills the hole
            order.remove(order.size() - 1);
        }
        for (int j = 0; j < joining.size(); j++) {
            order.add(-1 - j);
        }
        int[] newOrder = order.stream().mapToInt(Integer::intValue).toArray();
        int[] newLengths = Arrays.stream(newOrder)
                .map(o -> o >= 0 ? lengths[o] : joining.get(-1 - o).length()).toArray();
        int longest = Arrays.stream(newLengths).max().orElse(0);
        copied = 0;
        if (newLengths.length == 0) {
            release();
            return newOrder;
        }
        boolean inPlace = spec.layout() == KvLayout.SPLIT && view != null && longest <= width
                && paddingShare(newLengths, width) <= MAX_PADDING_SHARE
                && past[0].capacity() >= packer.batchBytes(newLengths.length, width);
        Map<KvCache, KvCache.Lease> held = new IdentityHashMap<>();
        try {
            for (KvRow source : joining) {
                held.computeIfAbsent(source.cache(), KvCache::lease);
            }
            int newWidth = inPlace ? width : longest;
            ByteBuffer[] target = inPlace ? past : ensured(spare, newLengths.length, newWidth);
            for (int t = 0; t < spec.tensorCount(); t++) {
                ByteBuffer from = past[t] == null ? null : past[t].duplicate();
                Map<KvCache, ByteBuffer> read = new IdentityHashMap<>();
                for (int r = 0; r < newOrder.length; r++) {
                    int o = newOrder[r];
                    if (o >= 0) {
                        if (!inPlace || o != r) { // in place, a row that keeps its place is not copied
                            copied += packer.writeRow(row(o), from, target[t], newOrder.length, r, newWidth);
                        }
                    } else {
                        KvRow source = joining.get(-1 - o);
                        int tensor = t;
                        ByteBuffer bytes = read.computeIfAbsent(source.cache(), cache -> held.get(cache).bytes(tensor));
                        copied += packer.writeRow(source, bytes, target[t], newOrder.length, r, newWidth);
                    }
                }
            }
            if (!inPlace) {
                spare = past;
                past = target;
            }
            lengths = newLengths;
            width = newWidth;
            replaceView(views(past, width));
        } finally {
            held.values().forEach(KvCache.Lease::close);
        }
        return newOrder;
    }

    /**
     * Where the next pass writes its present: tensors one column wider than the past over the spare buffers,
     * for {@link #advanced} to make the past, or for the caller to close if the pass failed.
     */
    KvCache present() {
        return views(ensured(spare, rows(), width + 1), width + 1);
    }

    /** A pass wrote {@code present} (from {@link #present}): it is the past now, every row one token longer. */
    void advanced(KvCache present) {
        ByteBuffer[] written = spare;
        spare = past;
        past = written;
        width++;
        for (int r = 0; r < lengths.length; r++) {
            lengths[r]++;
        }
        replaceView(present);
    }

    /** {@code buffers}, replaced by larger ones where they cannot hold {@code rows} rows {@code width} wide. */
    private ByteBuffer[] ensured(ByteBuffer[] buffers, int rows, int width) {
        long needed = packer.batchBytes(rows, width);
        for (int t = 0; t < buffers.length; t++) {
            if (buffers[t] == null || buffers[t].capacity() < needed) {
                // Room for half as many rows again (at least two more, at most the batch's bound) and a quarter
                // more columns, so that joins and passes grow into it for a while; not a full batch's room at
                // once, which for a long row of a large model is gigabytes that Java zero-fills on allocation.
                int roomRows = Math.max(rows, Math.min(maxRows, rows + Math.max(2, rows / 2)));
                long bytes = packer.batchBytes(roomRows, width + Math.max(64, width / 4));
                if (bytes > Integer.MAX_VALUE) {
                    throw new InferenceException("A batch of " + maxRows + " rows " + width
                            + " tokens wide does not fit a buffer", null);
                }
                buffers[t] = ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.nativeOrder());
            }
        }
        return buffers;
    }

    /** Tensors of the current rows {@code width} wide over the start of {@code buffers}, as a cache. */
    private KvCache views(ByteBuffer[] buffers, int width) {
        int bytes = (int) packer.batchBytes(rows(), width);
        List<OnnxTensor> tensors = new ArrayList<>(buffers.length);
        List<ByteBuffer> slices = new ArrayList<>(buffers.length);
        try {
            for (ByteBuffer buffer : buffers) {
                ByteBuffer slice = buffer.slice(0, bytes).order(ByteOrder.nativeOrder());
                tensors.add(OnnxTensor.createTensor(env, slice, spec.tensorShape(rows(), width), spec.dtype()));
                slices.add(slice);
            }
        } catch (OrtException | RuntimeException e) {
            tensors.forEach(OnnxTensor::close);
            throw new InferenceException("Could not create the batch's past tensors", e);
        }
        return new KvCache(tensors, slices, width, () -> tensors.forEach(OnnxTensor::close), live);
    }

    private void replaceView(KvCache next) {
        if (view != null) {
            view.close();
        }
        view = next;
    }

    /** No rows: the buffers go too, so an idle batch holds no memory. */
    private void release() {
        replaceView(null);
        Arrays.fill(past, null);
        Arrays.fill(spare, null);
        lengths = new int[0];
        width = 0;
    }

    private static double paddingShare(int[] lengths, int width) {
        long cells = (long) lengths.length * width;
        return cells == 0 ? 0 : 1 - (double) Arrays.stream(lengths).asLongStream().sum() / cells;
    }

    @Override
    public void close() {
        release();
    }
}
