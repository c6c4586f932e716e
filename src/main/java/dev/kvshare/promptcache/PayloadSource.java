package dev.kvshare.promptcache;

import java.nio.ByteBuffer;
import java.util.List;

import dev.kvshare.model.TokenRange;

/**
 * A sequence's KV, as the prompt cache asks for it: the cache decides which ranges it lacks and this copies just
 * those out of wherever the KV lives (the model's tensors), so the cache itself never touches a tensor.
 */
@FunctionalInterface
public interface PayloadSource {

    /** One new buffer per range, in order, laid out as the payload of a block of the range's length (see {@link KvBlock}). */
    List<ByteBuffer> copy(List<TokenRange> ranges);

    /** A source whose KV stays alive until closed, so that another thread (the copier) may copy from it. */
    interface Held extends PayloadSource, AutoCloseable {

        @Override
        void close();
    }
}
