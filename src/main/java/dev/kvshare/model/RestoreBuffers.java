package dev.kvshare.model;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * The direct memory restored past tensors live in, kept for the next restore once they are closed. A fresh
 * direct buffer is memory the C library has just taken from the system (or given back to it when the last one
 * was freed), so writing it page-faults once per 4 KiB page: on the 2-core test machine that made a 50 MB
 * restore (2,047 tokens of a Qwen2.5-0.5B shape) cost ~150 ms of CPU for what is a ~10 ms copy. A reused buffer
 * is already mapped.
 *
 * <p>It keeps at most one idle set of buffers (one per past tensor), the largest given back: a restore takes it
 * when its buffers are large enough, and otherwise allocates (concurrent restores do). So the memory it holds
 * beyond what open restores use is bounded by the largest restore so far, or {@link #reserve reserved}. A set it
 * does not keep is left to the garbage collector, as every direct buffer is.
 */
final class RestoreBuffers {

    private List<ByteBuffer> idle;
    /** The sets taken and not given back yet. */
    private final Set<List<ByteBuffer>> lent = Collections.newSetFromMap(new IdentityHashMap<>());
    private long bytesAllocated;

    /**
     * {@code count} direct buffers of at least {@code bytes} each; their contents are undefined. Give them back
     * with {@link #giveBack} once nothing uses them.
     */
    synchronized List<ByteBuffer> take(int count, int bytes) {
        List<ByteBuffer> set = fits(idle, count, bytes) ? idle : allocate(count, bytes);
        if (set == idle) {
            idle = null;
        }
        lent.add(set);
        return set;
    }

    /** Buffers from {@link #take} that nothing uses any more. */
    synchronized void giveBack(List<ByteBuffer> buffers) {
        lent.remove(buffers);
        keepIfLargest(buffers);
    }

    /**
     * Makes the memory of a restore of {@code count} buffers of {@code bytes} ready now, unless a set that large
     * is idle or taken already (and so comes back): its page faults are paid here rather than by that restore.
     */
    synchronized void reserve(int count, int bytes) {
        if (fits(idle, count, bytes) || lent.stream().anyMatch(set -> fits(set, count, bytes))) {
            return;
        }
        keepIfLargest(allocate(count, bytes));
    }

    /** Direct memory allocated so far: what restores and reservations could not take from an idle set. */
    synchronized long bytesAllocated() {
        return bytesAllocated;
    }

    private List<ByteBuffer> allocate(int count, int bytes) {
        List<ByteBuffer> fresh = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            fresh.add(ByteBuffer.allocateDirect(bytes));
        }
        bytesAllocated += (long) count * bytes;
        return fresh;
    }

    private void keepIfLargest(List<ByteBuffer> buffers) {
        if (!buffers.isEmpty() && (idle == null || buffers.get(0).capacity() > idle.get(0).capacity())) {
            idle = buffers;
        }
    }

    private static boolean fits(List<ByteBuffer> set, int count, int bytes) {
        return set != null && set.size() == count && set.get(0).capacity() >= bytes;
    }
}
