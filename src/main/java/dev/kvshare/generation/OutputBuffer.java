package dev.kvshare.generation;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * A sequence's text on its way to its client. The generating thread adds chunks without ever waiting; a
 * writer thread hands them to the client's sink in order, one at a time. A client that reads slowly or not at
 * all therefore holds up only its own writer, never its sequence's next token nor the batch. How far behind a
 * client is shows in {@link #lagNanos}; a sequence whose client falls too far behind is cancelled by its
 * owner, and {@link #offer} refuses a chunk beyond {@code capacity} undelivered ones, which bounds the memory a
 * stalled client can pin: its producer then waits for room ({@link #awaitRoom}).
 */
final class OutputBuffer {

    private final TokenSink sink;
    private final Executor writers;
    private final int capacity;
    private final Consumer<Exception> sinkFailed;

    // Guarded by this.
    private final Deque<TextChunk> pending = new ArrayDeque<>();
    private final Deque<Long> offeredAt = new ArrayDeque<>();
    /** When the chunk the writer is handing over was offered; 0 while it hands over none. */
    private long writingSince;
    private boolean writing;
    private Runnable end;
    private boolean abandoned;

    /**
     * @param sinkFailed told (on the writer thread) when the sink throws: the client is gone; nothing more is
     *                   handed to it
     */
    OutputBuffer(TokenSink sink, Executor writers, int capacity, Consumer<Exception> sinkFailed) {
        this.sink = sink;
        this.writers = writers;
        this.capacity = capacity;
        this.sinkFailed = sinkFailed;
    }

    /** Queues a chunk for the client; never waits. False when {@code capacity} chunks already wait. */
    synchronized boolean offer(TextChunk chunk) {
        if (abandoned) {
            return true; // the sequence is being stopped; its text goes nowhere
        }
        if (pending.size() >= capacity) {
            return false;
        }
        pending.addLast(chunk);
        offeredAt.addLast(System.nanoTime());
        startWriter();
        return true;
    }

    /** Waits until a chunk may be offered again: the client took one, or the buffer was abandoned. */
    synchronized void awaitRoom() throws InterruptedException {
        while (!abandoned && pending.size() >= capacity) {
            wait();
        }
    }

    /** No more chunks: {@code then} runs on a writer thread once every chunk has been handed over. */
    synchronized void close(Runnable then) {
        end = then;
        startWriter();
    }

    /**
     * Drops the chunks still waiting and hands nothing more to the sink; {@code then} runs on a writer thread
     * (after the hand-over under way, if one is: it may hang on a full socket until the container's write
     * timeout, but nobody waits for it).
     */
    synchronized void abandon(Runnable then) {
        abandoned = true;
        pending.clear();
        offeredAt.clear();
        end = then;
        startWriter();
        notifyAll();
    }

    /** How long the oldest chunk not yet handed over has waited; 0 when the client has everything. */
    synchronized long lagNanos(long now) {
        long oldest = writingSince != 0 ? writingSince : offeredAt.isEmpty() ? 0 : offeredAt.peekFirst();
        return oldest == 0 ? 0 : now - oldest;
    }

    private void startWriter() {
        if (!writing && (!pending.isEmpty() || end != null)) {
            writing = true;
            writers.execute(this::write);
        }
    }

    private void write() {
        while (true) {
            TextChunk chunk;
            Runnable then = null;
            synchronized (this) {
                chunk = pending.pollFirst();
                if (chunk != null) {
                    writingSince = offeredAt.pollFirst();
                    notifyAll(); // a producer waiting for room
                } else {
                    writingSince = 0;
                    writing = false;
                    then = end;
                    end = null;
                    if (then == null) {
                        return;
                    }
                }
            }
            if (then != null) {
                then.run();
                return;
            }
            try {
                sink.accept(chunk);
            } catch (Exception clientGone) {
                synchronized (this) {
                    abandoned = true;
                    pending.clear();
                    offeredAt.clear();
                    notifyAll();
                }
                sinkFailed.accept(clientGone);
            }
        }
    }
}
