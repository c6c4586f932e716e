package dev.kvshare.generation;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The batch scheduler's admission and budget policy, as plain bookkeeping: at most {@code maxBatchSize}
 * sequences are admitted at once (prefilling, joining or running), a free place goes to the waiting sequence
 * whose client has the fewest admitted (arrival order among equals), and admitted prompts are prefilled in
 * arrival order for at most {@code prefillTokensPerStep} tokens per iteration, so a long prompt delays the
 * running streams' next token by that much at most.
 *
 * <p>When every place is held and the sequence next in turn belongs to a client holding at least two places
 * fewer than the client holding the most, that client gives up its youngest running sequence
 * ({@link #preemption}): that one waits again at the head of its client's turn and resumes first when its
 * client is next served, so a newcomer waits one decode pass behind a client holding the whole batch rather
 * than one of its sequences' whole generation, and clients sharing a full batch converge on equal shares. No threads and no
 * tensors: the scheduler calls it under its own lock.
 *
 * @param <S> a sequence
 */
final class BatchPolicy<S> {

    private final int maxBatchSize;
    private final int prefillTokensPerStep;
    private final Function<S, String> clientOf;
    /** Arrival order; a sequence that was admitted before and waits again is put first. */
    private final Deque<S> waiting = new ArrayDeque<>();
    private final List<S> prefilling = new ArrayList<>();
    /** Waiting sequences that ran before: they rejoin with the KV they have, without a prefill. */
    private final Set<S> resuming = new HashSet<>();
    /** Each client's admitted sequences, oldest first. */
    private final Map<String, List<S>> admittedByClient = new HashMap<>();
    private int admitted;

    /** @param clientOf whose a sequence is: the unit of fair share */
    BatchPolicy(int maxBatchSize, int prefillTokensPerStep, Function<S, String> clientOf) {
        if (maxBatchSize < 1 || prefillTokensPerStep < 1) {
            throw new IllegalArgumentException("The batch size and the prefill budget must be at least 1");
        }
        this.maxBatchSize = maxBatchSize;
        this.prefillTokensPerStep = prefillTokensPerStep;
        this.clientOf = clientOf;
    }

    void enqueue(S sequence) {
        waiting.addLast(sequence);
    }

    /** A sequence that ran and gave up its place waits again, ahead of every other sequence of its client. */
    void requeue(S sequence) {
        waiting.addFirst(sequence);
        resuming.add(sequence);
    }

    /** A waiting sequence left before it was admitted; false if it is not waiting. */
    boolean withdraw(S sequence) {
        resuming.remove(sequence);
        return waiting.remove(sequence);
    }

    boolean canAdmit() {
        return !waiting.isEmpty() && admitted < maxBatchSize;
    }

    /**
     * Admits waiting sequences while the batch has room, each time one of the client with the fewest
     * admitted; they are to be prefilled, but for those that {@link #requeue ran before}: they rejoin as they are.
     */
    List<S> admit() {
        List<S> admittedNow = new ArrayList<>();
        while (canAdmit()) {
            S sequence = nextToAdmit();
            waiting.remove(sequence);
            admitted++;
            admittedByClient.computeIfAbsent(clientOf.apply(sequence), client -> new ArrayList<>()).add(sequence);
            if (!resuming.remove(sequence)) {
                prefilling.add(sequence);
            }
            admittedNow.add(sequence);
        }
        return admittedNow;
    }

    private S nextToAdmit() {
        S chosen = null;
        int fewest = Integer.MAX_VALUE;
        for (S sequence : waiting) {
            int clientAdmitted = admittedOf(clientOf.apply(sequence));
            if (clientAdmitted < fewest) {
                chosen = sequence;
                fewest = clientAdmitted;
            }
        }
        return chosen;
    }

    private int admittedOf(String client) {
        List<S> sequences = admittedByClient.get(client);
        return sequences == null ? 0 : sequences.size();
    }

    /**
     * When every place is held and the sequence next in turn belongs to a client holding at least two places
     * fewer than the client holding the most: the youngest sequence that {@code preemptible} allows of that
     * client, which gives up its place here and waits again first in its client's turn. The caller takes it
     * out of the batch.
     */
    Optional<S> preemption(Predicate<S> preemptible) {
        if (admitted < maxBatchSize || waiting.isEmpty()) {
            return Optional.empty();
        }
        int fewest = admittedOf(clientOf.apply(nextToAdmit()));
        List<S> largest = admittedByClient.values().stream()
                .max((a, b) -> Integer.compare(a.size(), b.size())).orElseThrow();
        if (largest.size() < fewest + 2) {
            return Optional.empty();
        }
        for (int i = largest.size() - 1; i >= 0; i--) {
            S victim = largest.get(i);
            if (preemptible.test(victim)) {
                retire(victim);
                requeue(victim);
                return Optional.of(victim);
            }
        }
        return Optional.empty();
    }

    /** The budget of one iteration's prefill: hands out tokens to admitted prompts in arrival order. */
    Prefill prefill() {
        return new Prefill();
    }

    /** The sequence no longer holds a place in the batch (it is gone, or parked); no-op if it held none. */
    void retire(S sequence) {
        String client = clientOf.apply(sequence);
        List<S> sequences = admittedByClient.get(client);
        if (sequences == null || !sequences.remove(sequence)) {
            return;
        }
        if (sequences.isEmpty()) {
            admittedByClient.remove(client);
        }
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
        resuming.clear();
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
