package dev.kvshare.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

import ai.onnxruntime.OnnxTensor;

/**
 * The past KV a decoder step reads: one tensor per past input (see {@link DecoderIo#pastInputs()}) covering
 * {@link #length()} tokens. The tensors stay in native memory; a step's present outputs become the next
 * step's cache without a copy into the JVM. Closing releases whatever owns them (a step's result, or
 * tensors restored from the prompt cache); the shared empty cache owns nothing.
 *
 * <p>ONNX Runtime's Java API hands a closed tensor's stale native pointer to {@code OrtSession.run}, which
 * then reads freed memory (a JVM crash, or worse, wrong output). So misuse fails here, in Java: a pass holds
 * a {@link Lease} on its past for as long as it runs, using a cache after {@link #close()} throws, and a close
 * that comes while a pass still runs is carried out when the pass ends. Closing twice does nothing.
 */
public final class KvCache implements AutoCloseable {

    private final List<OnnxTensor> tensors;
    /** The Java buffers the tensors lie in, one each; null when ONNX Runtime allocated them. */
    private final List<ByteBuffer> buffers;
    private final int length;
    private final AutoCloseable owner;
    private final LiveTensors live;
    private int leases;
    private boolean closed;
    private boolean released;

    /** @param owner what closing releases (null: nothing, the shared empty cache); counted in {@code live} */
    KvCache(List<OnnxTensor> tensors, int length, AutoCloseable owner, LiveTensors live) {
        this(tensors, null, length, owner, live);
    }

    /** @param buffers the Java buffers {@code tensors} were made over, one each (null: none) */
    KvCache(List<OnnxTensor> tensors, List<ByteBuffer> buffers, int length, AutoCloseable owner, LiveTensors live) {
        this.tensors = List.copyOf(tensors);
        this.buffers = buffers == null ? null : List.copyOf(buffers);
        this.length = length;
        this.owner = owner;
        this.live = live;
        if (owner != null) {
            live.opened(this.tensors.size());
        }
    }

    /** Tokens this cache covers. */
    public int length() {
        return length;
    }

    /** The tensors, for code that must not outlive a {@link Lease} (a pass) or the caller's ownership. */
    synchronized List<OnnxTensor> tensors() {
        checkOpen();
        return tensors;
    }

    /**
     * Keeps the tensors alive until the lease is closed, even if the cache is closed meanwhile: a pass holds
     * one while it runs, and so does a copy made on another thread (the prompt cache's store).
     */
    public synchronized Lease lease() {
        checkOpen();
        leases++;
        return new Lease();
    }

    public synchronized boolean isClosed() {
        return closed;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("This KV cache (" + length + " tokens) was closed: its tensors must "
                    + "not reach ONNX Runtime");
        }
    }

    private synchronized void endLease() {
        leases--;
        if (leases == 0 && closed) {
            release();
        }
    }

    @Override
    public synchronized void close() {
        if (closed || owner == null) {
            return; // the shared empty cache owns nothing and stays usable
        }
        closed = true;
        if (leases == 0) {
            release();
        }
    }

    private void release() {
        if (released) {
            return;
        }
        released = true;
        live.closed(tensors.size());
        try {
            owner.close();
        } catch (Exception e) {
            throw new IllegalStateException("Could not release KV tensors", e);
        }
    }

    /** A hold on a cache's tensors; closing it twice does nothing. */
    public final class Lease implements AutoCloseable {

        private boolean ended;

        private Lease() {
        }

        /** Tokens the held cache covers. */
        public int length() {
            return length;
        }

        /** The held tensors: valid until this lease is closed, whether or not the cache is closed meanwhile. */
        List<OnnxTensor> tensors() {
            synchronized (KvCache.this) {
                if (ended) {
                    throw new IllegalStateException("This lease on a KV cache has ended");
                }
                return tensors;
            }
        }

        /**
         * The bytes of held tensor {@code i}: where they lie if the cache was made over Java buffers, else
         * a copy out of native memory of the whole tensor ({@code getByteBuffer}), so read each tensor once.
         */
        ByteBuffer bytes(int i) {
            OnnxTensor tensor = tensors().get(i);
            return buffers == null ? tensor.getByteBuffer() : buffers.get(i).duplicate().order(ByteOrder.nativeOrder());
        }

        @Override
        public void close() {
            synchronized (KvCache.this) {
                if (!ended) {
                    ended = true;
                    endLease();
                }
            }
        }
    }
}
