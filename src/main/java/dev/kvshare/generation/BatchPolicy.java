package dev.kvshare.generation;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * The batch scheduler's admission and budget policy, as plain bookkeeping: sequences wait in arrival order,
 * at most {@code maxBatchSize} are admitted at once (prefilling, joining or running), and admitted prompts are
 * prefilled in arrival order for at most {@code prefillTokensPerStep} tokens per iteration, so a long prompt
 * delays the running streams' next token by that much at most. No threads and no tensors: the scheduler calls
 * it under its own lock.
 *
 * @param <S> a sequence
 */
final class BatchPolicy<S> {

    private final int maxBatchSize;
    private final int prefillTokensPerStep;
    private final Deque<S> waiting = new ArrayDeque<>();
    private final List<S> prefilling = new ArrayList<>();
    private int admitted;

    BatchPolicy(int maxBatchSize, int prefillTokensPerStep) {
        if (maxBatchSize < 1 || prefillTokensPerStep < 1) {
            throw new IllegalArgumentException("The batch size and the prefill budget must be at least 1");
        }
        this.maxBatchSize = maxBatchSize;
        this.prefillTokensPerStep = prefillTokensPerStep;
    }

    void enqueue(S sequence) {
        waiting.addLast(sequence);
    }

    /** A waiting sequence left before it was admitted; false if it is not waiting. */
    boolean withdraw(S sequence) {
        return waiting.remove(sequence);
    }

    boolean canAdmit() {
        return !waiting.isEmpty() && admitted < maxBatchSize;
    }

    /** Admits waiting sequences, in arrival order, while the batch has room; they are to be prefilled. */
    List<S> admit() {
        List<S> admittedNow = new ArrayList<>();
        while (canAdmit()) {
            S sequence = waiting.pollFirst();
            admitted++;
            prefilling.add(sequence);
            admittedNow.add(sequence);
        }
        return admittedNow;
    }

    /** The budget of one iteration's prefill: hands out tokens to admitted prompts in arrival order. */
    Prefill prefill() {
        return new Prefill();
    }

    /** An admitted sequence is gone (finished, failed or left); its place in the batch is free. */
    void retire(S sequence) {
        prefilling.remove(sequence);
        admitted--;
    }

    boolean prefilling() {
        return !prefilling.isEmpty();
    }

    /** Nothing admitted and nothing waiting. */
    boolean idle() {
        return admitted == 0 && waiting.isEmpty();
    }

    /** Takes every waiting sequence out (the scheduler is failing or closing). */
    List<S> drainWaiting() {
        List<S> drained = List.copyOf(waiting);
        waiting.clear();
        return drained;
    }

    /** The prompts still being prefilled, in arrival order. */
    List<S> prefillOrder() {
        return List.copyOf(prefilling);
    }

    /** One iteration's prefill budget. */
    final class Prefill {

        private int left = prefillTokensPerStep;

        /** The sequence to prefill next, or null when the budget is spent or nothing is left to prefill. */
        S next() {
            return left > 0 && !prefilling.isEmpty() ? prefilling.get(0) : null;
        }

        /** Tokens the next sequence may run now. */
        int grant() {
            return left;
        }

        /**
         * The next sequence ran {@code tokens} prompt tokens (at most its grant); {@code done}: its prompt is
         * whole and it leaves the prefill order to join the batch.
         */
        void spent(S sequence, int tokens, boolean done) {
            if (tokens < 0 || tokens > left) {
                throw new IllegalArgumentException("Spent " + tokens + " of " + left + " tokens left");
            }
            left -= tokens;
            if (done) {
                prefilling.remove(sequence);
            }
        }

        /** Tokens prefilled in this iteration so far. */
        int used() {
            return prefillTokensPerStep - left;
        }
    }
}
