package dev.kvshare.model;

import java.util.List;

import ai.onnxruntime.OnnxTensor;

/**
 * The past KV a decoder step reads: one tensor per past input (see {@link DecoderIo#pastInputs()}) covering
 * {@link #length()} tokens. The tensors stay in native memory; a step's present outputs become the next
 * step's cache without a copy into the JVM. Closing releases whatever owns them (a step's result, or
 * tensors restored from the prompt cache); the shared empty cache owns nothing.
 */
public final class KvCache implements AutoCloseable {

    private final List<OnnxTensor> tensors;
    private final int length;
    private final AutoCloseable owner;

    KvCache(List<OnnxTensor> tensors, int length, AutoCloseable owner) {
        this.tensors = List.copyOf(tensors);
        this.length = length;
        this.owner = owner;
    }

    /** Tokens this cache covers. */
    public int length() {
        return length;
    }

    List<OnnxTensor> tensors() {
        return tensors;
    }

    @Override
    public void close() {
        if (owner == null) {
            return;
        }
        try {
            owner.close();
        } catch (Exception e) {
            throw new IllegalStateException("Could not release KV tensors", e);
        }
    }
}
