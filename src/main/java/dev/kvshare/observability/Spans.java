package dev.kvshare.observability;

import java.util.function.Function;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

import io.micrometer.tracing.Span;
import io.micrometer.tracing.Tracer;

/**
 * Child spans of whatever span is current, for the steps of a request (docs/operations.md#traces). With no
 * tracer ({@code management.tracing.enabled=false}) every span is a no-op.
 */
public class Spans {

    public static final Spans NONE = new Spans(Tracer.NOOP);

    private final Tracer tracer;

    public Spans(Tracer tracer) {
        this.tracer = tracer;
    }

    Tracer tracer() {
        return tracer;
    }

    /** Runs {@code work} in a child span named {@code name}, current while it runs. */
    public <T> T in(String name, Supplier<T> work) {
        return in(tracer.nextSpan().name(name), span -> work.get());
    }

    /** Runs a prompt-cache step in a child span tagged with the blocks it found. */
    public int blocks(String name, IntSupplier work) {
        return in(tracer.nextSpan().name(name), span -> {
            int blocks = work.getAsInt();
            span.tag("kvshare.blocks", blocks);
            return blocks;
        });
    }

    /** {@code work}, to run on another thread with the span that is current here (its spans nest under it). */
    public Runnable withCurrentSpan(Runnable work) {
        Span current = tracer.currentSpan();
        if (current == null) {
            return work;
        }
        return () -> {
            try (Tracer.SpanInScope ignored = tracer.withSpan(current)) {
                work.run();
            }
        };
    }

    /**
     * {@code work} for another thread, in a span that is a child of the span current now: a background step
     * shows up under the request that caused it, ending when it ran (a task that never runs has no span).
     */
    public Runnable inBackground(String name, Runnable work) {
        Span parent = tracer.currentSpan();
        return () -> in((parent == null ? tracer.nextSpan() : tracer.nextSpan(parent)).name(name), span -> {
            work.run();
            return null;
        });
    }

    private <T> T in(Span span, Function<Span, T> work) {
        span.start();
        try (Tracer.SpanInScope ignored = tracer.withSpan(span)) {
            return work.apply(span);
        } catch (RuntimeException | Error e) {
            span.error(e);
            throw e;
        } finally {
            span.end();
        }
    }
}
