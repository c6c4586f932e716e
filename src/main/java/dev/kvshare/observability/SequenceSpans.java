package dev.kvshare.observability;

import java.util.ArrayDeque;
import java.util.Deque;

import io.micrometer.common.KeyValue;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.tracing.Span;
import io.micrometer.tracing.Tracer;

/**
 * The spans of each sequence, made from its observation: the sequence's own span (a child of the span current
 * where the request arrived, named and attributed by the convention), with children for the wait for a slot and
 * for the prefill and decode phases. The phases open as the sequence moves on; its stop closes whatever is still
 * open, whichever way the sequence ended.
 */
final class SequenceSpans implements ObservationHandler<SequenceContext> {

    private final Tracer tracer;
    /** The scopes this thread opened, innermost first: a sequence's scope may open again inside its own. */
    private final ThreadLocal<Deque<Tracer.SpanInScope>> scopes = ThreadLocal.withInitial(ArrayDeque::new);

    SequenceSpans(Tracer tracer) {
        this.tracer = tracer;
    }

    /** One sequence's open spans. */
    private static final class Open {
        final Span sequence;
        Span admission;
        Span phase;

        Open(Span sequence, Span admission) {
            this.sequence = sequence;
            this.admission = admission;
        }
    }

    @Override
    public boolean supportsContext(Observation.Context context) {
        return context instanceof SequenceContext sequence && sequence.traced();
    }

    @Override
    public void onStart(SequenceContext context) {
        Span sequence = tracer.nextSpan().name(context.getName()).start();
        context.put(Open.class, new Open(sequence, tracer.nextSpan(sequence).name("kvshare.admission").start()));
    }

    @Override
    public void onEvent(Observation.Event event, SequenceContext context) {
        Open open = open(context);
        if (event == SequenceEvent.RUNNING) {
            endAdmission(open);
        } else if (event == SequenceEvent.PREFILLING) {
            nextPhase(open, "kvshare.prefill").tag("kvshare.computed_tokens", context.computedTokens());
        } else if (event == SequenceEvent.FIRST_TOKEN) {
            nextPhase(open, "kvshare.decode");
        }
    }

    @Override
    public void onScopeOpened(SequenceContext context) {
        scopes.get().push(tracer.withSpan(open(context).sequence));
    }

    @Override
    public void onScopeClosed(SequenceContext context) {
        scopes.get().pop().close();
    }

    @Override
    public void onError(SequenceContext context) {
        open(context).sequence.error(context.getError());
    }

    @Override
    public void onStop(SequenceContext context) {
        Open open = open(context);
        if (context.cancel() != null) {
            open.sequence.event("client disconnected while " + context.cancel().stage());
        }
        for (KeyValue value : context.getAllKeyValues()) {
            open.sequence.tag(value.getKey(), value.getValue());
        }
        if (context.getContextualName() != null) {
            open.sequence.name(context.getContextualName());
        }
        endAdmission(open);
        if (open.phase != null) {
            open.phase.end();
        }
        open.sequence.end();
    }

    private static Open open(SequenceContext context) {
        return context.getRequired(Open.class);
    }

    private static void endAdmission(Open open) {
        if (open.admission != null) {
            open.admission.end();
            open.admission = null;
        }
    }

    private Span nextPhase(Open open, String name) {
        if (open.phase != null) {
            open.phase.end();
        }
        open.phase = tracer.nextSpan(open.sequence).name(name).start();
        return open.phase;
    }
}
