package dev.kvshare.model;

import java.util.function.Supplier;

/**
 * What one chat-template render may cost: template nodes and expressions evaluated, wall time, and characters
 * of output. A template file comes from whoever packaged the model and a conversation from whoever sent the
 * request; neither may hold a request thread or its memory for long. Exceeding the budget fails the render with
 * a {@link ChatTemplateException} (a 400), before any token is computed.
 *
 * <p>The count is kept per thread because Jinjava renders on the calling thread and offers no per-render
 * hook other than its global node pre-processor and EL resolver, which {@link #charge()} from there.
 *
 * @param maxOperations template nodes rendered plus expressions resolved in one render
 * @param maxMillis     wall time of one render
 * @param maxOutputChars characters one render may produce (and the longest string it may build)
 */
public record RenderBudget(long maxOperations, long maxMillis, long maxOutputChars) {

    /** Generous for any real chat template: rendering a 100-turn chat takes a few thousand operations. */
    public static final RenderBudget DEFAULT = new RenderBudget(200_000, 1_000, 4_000_000);

    /** Longest list, map or {@code range()} a template may build; chat templates iterate over messages. */
    static final int MAX_COLLECTION_SIZE = 10_000;

    /** Deepest nesting of templates and macro recursion. */
    static final int MAX_DEPTH = 20;

    private static final ThreadLocal<Meter> CURRENT = new ThreadLocal<>();

    public RenderBudget {
        if (maxOperations < 1 || maxMillis < 1 || maxOutputChars < 1) {
            throw new IllegalArgumentException("A render budget must be positive");
        }
    }

    /** Runs {@code render} on this thread with {@code budget}. */
    static <T> T within(RenderBudget budget, Supplier<T> render) {
        Meter previous = CURRENT.get();
        CURRENT.set(new Meter(budget, System.nanoTime()));
        try {
            return render.get();
        } finally {
            CURRENT.set(previous);
        }
    }

    /** One operation of the render running on this thread; fails it once the budget is spent. */
    static void charge() {
        Meter meter = CURRENT.get();
        if (meter != null) {
            meter.charge();
        }
    }

    private static final class Meter {

        private final RenderBudget budget;
        private final long startNanos;
        private long operations;

        Meter(RenderBudget budget, long startNanos) {
            this.budget = budget;
            this.startNanos = startNanos;
        }

        void charge() {
            operations++;
            if (operations > budget.maxOperations) {
                throw new ChatTemplateException("The chat template exceeded its budget of "
                        + budget.maxOperations + " operations");
            }
            // The clock is read every 256 operations: cheap, and still within milliseconds of the limit.
            if ((operations & 0xFF) == 0 && System.nanoTime() - startNanos > budget.maxMillis * 1_000_000) {
                throw new ChatTemplateException("The chat template exceeded its budget of " + budget.maxMillis
                        + " ms");
            }
        }
    }
}
