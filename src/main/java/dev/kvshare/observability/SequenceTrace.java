package dev.kvshare.observability;

import java.util.function.Supplier;

import io.micrometer.tracing.Span;
import io.micrometer.tracing.Tracer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The spans of one sequence: the sequence itself, with children for the wait for a slot, the steps run in
 * it ({@link #in}), and the prefill and decode phases. Phases are opened and closed by the generation loop as
 * it moves on; {@link #end} closes whatever is still open, whichever way the sequence ended.
 */
public final class SequenceTrace {

    private static final Logger log = LoggerFactory.getLogger(SequenceTrace.class);

    private final Tracer tracer;
    private final Span sequence;
    private final String model;
    private Span admission;
    private Span phase;

    SequenceTrace(Tracer tracer, Span sequence, String model) {
        this.tracer = tracer;
        this.sequence = sequence;
        this.model = model;
        this.admission = tracer.nextSpan(sequence).name("kvshare.admission").start();
    }

    /** The sequence got a slot: the wait ends, and its span becomes current on the running thread (logs). */
    public Tracer.SpanInScope admitted() {
        admission.end();
        admission = null;
        return tracer.withSpan(sequence);
    }

    /** Runs a step of the sequence in a child span, current while it runs (so its own steps nest under it). */
    public <T> T in(String name, Supplier<T> work) {
        return new Spans(tracer).in(name, work);
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

    public void cancelled(String stage) {
        sequence.event("client disconnected while " + stage).tag("kvshare.cancelled", stage);
    }

    public void failed(Throwable e) {
        sequence.error(e);
    }

    /** Ends the sequence's span and whichever child is still open. */
    public void end() {
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
