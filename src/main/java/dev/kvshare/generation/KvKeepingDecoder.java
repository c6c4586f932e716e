package dev.kvshare.generation;

import java.util.function.Consumer;

import dev.kvshare.model.KvRow;

/**
 * A decoder that keeps the KV of every token it was fed, so that the prompt cache can store a finished
 * sequence's prompt and reply for its next turn.
 */
interface KvKeepingDecoder extends SequenceDecoder {

    /**
     * Hands {@code reader} the KV of every token fed so far (the prompt and each token passed to
     * {@link #next}); valid only during the call. Call it from the sequence's own thread, after {@link #start}
     * or {@link #next} returned and before the next call or {@link #close}.
     */
    void readKv(Consumer<KvRow> reader);

    /**
     * The caller holds its logits and will not hand in its next token for a while (its client is not
     * reading): a decoder that shares passes with others lets them go on without it until {@link #next}.
     */
    default void pause() {
    }
}
