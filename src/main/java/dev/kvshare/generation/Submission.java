package dev.kvshare.generation;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

import dev.kvshare.observability.SequenceObservation;

/**
 * One request from {@link GenerationService#submit} until its slot is free again. The slot is held while the
 * sequence generates and while its output waits for the client, and freed once both are done, or at once when
 * the request is cancelled (its client left, or read too slowly): the sequence then stops at its next token,
 * and a write still hanging on the client's socket holds nobody's slot.
 */
final class Submission {

    /** Why a request was cancelled. */
    enum Cancel { CLIENT_GONE, SLOW_CLIENT }

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
    private final Consumer<Submission> releaseSlot;
    private final AtomicBoolean slotHeld = new AtomicBoolean(true);
    private volatile Cancel cancel;

    /** @param releaseSlot frees the request's admission slot; called once */
    Submission(GenerationRequest request, String client, TokenSink sink, Executor writers,
               SequenceObservation observation, Consumer<Submission> releaseSlot) {
        this.request = request;
        this.client = client;
        this.observation = observation;
        this.releaseSlot = releaseSlot;
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
     * it runs {@code pause} (the sequence steps out of the batch) and waits until the client reads, or until
     * the request is cancelled (the slow-client timeout).
     */
    TokenSink sink(Runnable pause) {
        return chunk -> {
            if (!output.offer(chunk)) {
                pause.run();
                output.awaitRoom();
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
            if (cancel != null || !slotHeld.get()) {
                return false;
            }
            cancel = reason;
        }
        freeSlot();
        output.abandon(() -> result.completeExceptionally(reason == Cancel.SLOW_CLIENT ? new SlowClientException()
                : new GenerationCancelledException()));
        return true;
    }

    private void freeSlot() {
        if (slotHeld.compareAndSet(true, false)) {
            releaseSlot.accept(this);
        }
    }
}
