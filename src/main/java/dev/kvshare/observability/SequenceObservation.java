package dev.kvshare.observability;

import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;

import io.micrometer.observation.Observation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One sequence's observation, from its arrival until it stops generating: the generation code reports what
 * happens to the sequence here, and nowhere else. Each report fills in the {@link SequenceContext} and tells the
 * observation's handlers, which make the meters ({@link GenerationMetrics}) and the spans ({@link SequenceSpans})
 * from it.
 */
public final class SequenceObservation implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SequenceObservation.class);

    /** Where a request was when its client went away: still waiting for a slot. */
    public static final String QUEUED = "queued";
    /** Where a request was when its client went away or was too slow: generating. */
    public static final String GENERATING = "generating";

    private final Observation observation;
    private final SequenceContext context;
    private final Spans spans;

    SequenceObservation(Observation observation, SequenceContext context, Spans spans) {
        this.observation = observation;
        this.context = context;
        this.spans = spans;
    }

    /**
     * {@code task}, the sequence's work, run in its observation: the wait for a slot ends when it starts, the
     * observation is in scope on its thread while it runs (its span current, so log lines carry the trace id),
     * and it stops with the task, cancelled or failed as {@code result} says.
     */
    public Runnable around(CompletableFuture<?> result, Runnable task) {
        return () -> {
            observation.event(SequenceEvent.RUNNING);
            try (Observation.Scope ignored = observation.openScope()) {
                task.run();
            } finally {
                outcome(result);
                observation.stop();
            }
        };
    }

    /** Stops an observation that {@link #around} does not run: the warm-up's. */
    @Override
    public void close() {
        observation.stop();
    }

    private void outcome(CompletableFuture<?> result) {
        try {
            result.getNow(null);
        } catch (CancellationException e) {
            if (context.cancel() == null) { // no reason was reported (a sink cut a slow client off): say where
                context.cancelled(new SequenceContext.Cancel(null,
                        context.computedTokens() < 0 ? QUEUED : GENERATING));
            }
        } catch (CompletionException e) {
            observation.error(e.getCause());
        }
    }

    /** The sequence was refused (the queue is full): its observation stops at once, with the error. */
    public void rejected(Throwable e) {
        context.rejected(true);
        observation.error(e);
        observation.stop();
    }

    /**
     * {@code work} run in the sequence's observation, on whichever thread: the batch scheduler's thread calls a
     * sequence's prefill callback, and what that starts (the background store) belongs to this sequence.
     */
    public void inSequence(Runnable work) {
        observation.scoped(work);
    }

    /** Runs a step of the sequence in a child span, current while it runs (so its own steps nest under it). */
    public <T> T in(String name, Supplier<T> work) {
        return spans.in(name, work);
    }

    /** Prompt tokens restored from the cache tiers instead of computed. */
    public void restored(int localTokens, int redisTokens) {
        context.restored(new SequenceContext.Restored(localTokens, redisTokens));
        observation.event(SequenceEvent.RESTORED);
    }

    /** Prefill starts: the prompt tokens the cache did not hold are computed. */
    public void prefilling(int computedTokens) {
        context.prefilling(computedTokens);
        observation.event(SequenceEvent.PREFILLING);
    }

    /**
     * The prompt is prefilled and the first token's logits are out: decoding starts.
     *
     * @return the time from the request's arrival to now
     */
    public Duration firstToken() {
        Duration timeToFirstToken = context.firstToken();
        observation.event(SequenceEvent.FIRST_TOKEN);
        return timeToFirstToken;
    }

    /** A token was generated (not an end-of-sequence token). */
    public void token() {
        context.token();
        observation.event(SequenceEvent.TOKEN);
    }

    /** The sequence is done; logged at DEBUG, with its trace id like every line written while it ran. */
    public void finished(int completionTokens, String finishReason) {
        context.finished(completionTokens, finishReason);
        observation.event(SequenceEvent.FINISHED);
        log.debug("Sequence finished: {} tokens generated, finish reason {}", completionTokens, finishReason);
    }

    /**
     * The request's client went away: its sequence stopped (or never started), its slot is free.
     *
     * @param stage {@link #QUEUED} or {@link #GENERATING}
     */
    public void clientDisconnected(String stage) {
        cancelled(GenerationMetrics.CLIENT_DISCONNECTED, stage);
    }

    /** The request's client left text unread for longer than the slow-client timeout while it generated. */
    public void slowClient() {
        cancelled(GenerationMetrics.SLOW_CLIENT, GENERATING);
    }

    private void cancelled(String reason, String stage) {
        context.cancelled(new SequenceContext.Cancel(reason, stage));
        observation.event(SequenceEvent.CANCELLED);
    }
}
