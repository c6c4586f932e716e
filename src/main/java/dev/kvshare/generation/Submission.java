package dev.kvshare.generation;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

import dev.kvshare.observability.SequenceObservation;

/**
 * One request from {@link GenerationService#submit} until its slot is free again. The slot is held while the
 * sequence generates and while its output waits for the client, and freed once both are done, or at once when
 * the request is cancelled (its client left, or read too slowly): the sequence then stops at its next token,
 * and a write still hanging on the client's socket holds nobody's slot. While the sequence is paused for a
 * client that does not read, its slot is lent to other clients' requests and taken back when it goes on.
 */
final class Submission {

    /** Why a request was cancelled. */
    enum Cancel { CLIENT_GONE, SLOW_CLIENT }

    /** The request's admission slot, as the service keeps it. */
    interface Slot {
        /** The request is done or cancelled: the slot is free for good. Called once. */
        void free(Submission submission);

        /** The sequence paused for its client: others may use the slot meanwhile. */
        void lend(Submission submission);

        /** The paused sequence goes on. */
        void reclaim(Submission submission);
    }

    private enum SlotState { HELD, LENT, FREE }

    /**
     * Undelivered chunks a sequence may have before it pauses until its client reads. The socket's own buffers
     * absorb a client's jitter; this bound only decides how many passes a client that stopped reading costs
     * the batch before its sequence steps out (and how much text it pins), so it is small.
     */
    static final int MAX_PENDING_CHUNKS = 64;

    final GenerationRequest request;
    final String client;
    final SequenceObservation observation;
    /** What the caller waits on: complete once the output is handed over, or failed, or cancelled. */
    final CompletableFuture<GenerationResult> result = new CompletableFuture<>();
    /** Complete once the sequence stops generating; the observation's outcome. */
    final CompletableFuture<GenerationResult> generated = new CompletableFuture<>();
    final OutputBuffer output;
    private final Slot slot;
    /** Guarded by this: slot calls for one request never overlap, so none is made after it is freed. */
    private SlotState slotState = SlotState.HELD;
    private volatile Cancel cancel;

    Submission(GenerationRequest request, String client, TokenSink sink, Executor writers,
               SequenceObservation observation, Slot slot) {
        this.request = request;
        this.client = client;
        this.observation = observation;
        this.slot = slot;
        this.output = new OutputBuffer(sink, writers, MAX_PENDING_CHUNKS, clientGone -> cancel(Cancel.CLIENT_GONE));
    }

    /** True once the request is cancelled: the generating loop stops at its next token. */
    boolean cancelled() {
        return cancel != null || result.isCancelled();
    }

    Cancel cancelReason() {
        return result.isCancelled() && cancel == null ? Cancel.CLIENT_GONE : cancel;
    }

    /**
     * The sink the generating loop writes to: queues the chunk. When {@link #MAX_PENDING_CHUNKS} wait already,
     * it runs {@code pause} (the sequence steps out of the batch), lends its slot, and waits until the client
     * reads, or until the request is cancelled (the slow-client timeout).
     */
    TokenSink sink(Runnable pause) {
        return chunk -> {
            if (!output.offer(chunk)) {
                pause.run();
                lendSlot();
                try {
                    output.awaitRoom();
                } finally {
                    reclaimSlot();
                }
                if (!output.offer(chunk)) {
                    throw new IllegalStateException("The output buffer is full after it had room");
                }
            }
        };
    }

    /** The sequence is done: the result goes to the caller once the client has all of its text. */
    void generated(GenerationResult generation) {
        generated.complete(generation);
        output.close(() -> {
            freeSlot();
            result.complete(generation);
        });
    }

    /** The sequence failed: the caller hears of it after the text that came before. */
    void failed(Throwable failure) {
        generated.completeExceptionally(failure);
        output.close(() -> {
            freeSlot();
            result.completeExceptionally(failure);
        });
    }

    /**
     * Cancels the request: its slot is freed now, its undelivered text dropped, and its sequence stops at the
     * next token.
     *
     * @return whether this call cancelled it (false: it was already cancelled or is done)
     */
    boolean cancel(Cancel reason) {
        synchronized (this) {
            if (cancel != null || slotState == SlotState.FREE) {
                return false;
            }
            cancel = reason;
        }
        freeSlot();
        output.abandon(() -> result.completeExceptionally(reason == Cancel.SLOW_CLIENT ? new SlowClientException()
                : new GenerationCancelledException()));
        return true;
    }

    private synchronized void freeSlot() {
        if (slotState != SlotState.FREE) {
            slotState = SlotState.FREE;
            slot.free(this);
        }
    }

    private synchronized void lendSlot() {
        if (slotState == SlotState.HELD) {
            slotState = SlotState.LENT;
            slot.lend(this);
        }
    }

    private synchronized void reclaimSlot() {
        if (slotState == SlotState.LENT) {
            slotState = SlotState.HELD;
            slot.reclaim(this);
        }
    }
}
