package dev.kvshare.observability;

import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;

import io.micrometer.tracing.Span;
import io.micrometer.tracing.Tracer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The spans of one sequence: the sequence itself, with children for the wait for a slot, the steps run in
 * it ({@link #in}), and the prefill and decode phases. Phases are opened and closed by the generation loop as
 * it moves on; the end of the sequence's task ({@link #around}) closes whatever is still open, whichever way
 * the sequence ended.
 */
public final class SequenceTrace {

    private static final Logger log = LoggerFactory.getLogger(SequenceTrace.class);

    private final Spans spans;
    private final Tracer tracer;
    private final Span sequence;
    private final String model;
    private Span admission;
    private Span phase;

    SequenceTrace(Spans spans, Span sequence, String model) {
        this.spans = spans;
        this.tracer = spans.tracer();
        this.sequence = sequence;
        this.model = model;
        this.admission = tracer.nextSpan(sequence).name("kvshare.admission").start();
    }

    /** A trace that records nothing, for work no request asked for (the prompt-cache warm-up). */
    public static SequenceTrace untraced() {
        return new SequenceTrace(Spans.NONE, Span.NOOP, "");
    }

    /**
     * {@code task}, the sequence's work, run in its trace: the wait for a slot ends when it starts, the
     * sequence's span is current on its thread while it runs (so log lines carry the trace id), and the span
     * ends with it, marked cancelled or failed as {@code result} says.
     */
    public Runnable around(CompletableFuture<?> result, Runnable task) {
        return () -> {
            admission.end();
            admission = null;
            try (Tracer.SpanInScope ignored = tracer.withSpan(sequence)) {
                task.run();
            } finally {
                outcome(result);
                end();
            }
        };
    }

    private void outcome(CompletableFuture<?> result) {
        try {
            result.getNow(null);
        } catch (CancellationException e) {
            String stage = phase == null ? "queued" : "generating";
            sequence.event("client disconnected while " + stage).tag("kvshare.cancelled", stage);
        } catch (CompletionException e) {
            sequence.error(e.getCause());
        }
    }

    /** The sequence was refused (the queue is full): its span ends at once, with the error. */
    public void rejected(Throwable e) {
        sequence.error(e);
        end();
    }

    /**
     * {@code work} run with the sequence's span current, on whichever thread: the batch scheduler's thread calls
     * a sequence's prefill callback, and what that starts (the background store) belongs to this sequence.
     */
    public void inSequence(Runnable work) {
        try (Tracer.SpanInScope ignored = tracer.withSpan(sequence)) {
            work.run();
        }
    }

    /** Runs a step of the sequence in a child span, current while it runs (so its own steps nest under it). */
    public <T> T in(String name, Supplier<T> work) {
        return spans.in(name, work);
    }

    /** Prompt tokens restored from the cache tiers instead of computed. */
    public void restored(int localTokens, int redisTokens) {
        sequence.tag("kvshare.cached_tokens", localTokens + redisTokens)
                .tag("kvshare.cached_tokens.local", localTokens)
                .tag("kvshare.cached_tokens.redis", redisTokens)
                .tag("kvshare.cache_tier", redisTokens > 0 ? (localTokens > 0 ? "local+redis" : "redis")
                        : localTokens > 0 ? "local" : "none");
    }

    /** Prefill starts: the prompt tokens the cache did not hold are computed. */
    public void prefilling(int computedTokens) {
        nextPhase("kvshare.prefill").tag("kvshare.computed_tokens", computedTokens);
    }

    /** The first token is out: decoding starts. */
    public void decoding() {
        nextPhase("kvshare.decode");
    }

    /** The sequence is done; logged at DEBUG, with its trace id like every line written while it ran. */
    public void finished(int completionTokens, String finishReason) {
        log.debug("Sequence finished: {} tokens generated, finish reason {}", completionTokens, finishReason);
        sequence.tag("gen_ai.response.model", model)
                .tag("gen_ai.usage.output_tokens", completionTokens)
                .tag("gen_ai.response.finish_reasons", finishReason);
    }

    /** Ends the sequence's span and whichever child is still open. */
    private void end() {
        if (admission != null) {
            admission.end();
        }
        if (phase != null) {
            phase.end();
        }
        sequence.end();
    }

    private Span nextPhase(String name) {
        if (phase != null) {
            phase.end();
        }
        phase = tracer.nextSpan(sequence).name(name).start();
        return phase;
    }
}
