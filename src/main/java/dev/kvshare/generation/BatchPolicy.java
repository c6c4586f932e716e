package dev.kvshare.generation;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.ToIntFunction;

/**
 * The batch scheduler's admission and budget policy, as plain bookkeeping: at most {@code maxBatchSize}
 * sequences are admitted at once (prefilling, joining or running), a free place goes to the waiting sequence
 * whose client has the fewest admitted (arrival order among equals), and admitted prompts are prefilled for at
 * most {@code prefillTokensPerStep} tokens per iteration, so a long prompt delays the running streams' next token
 * by that much at most. Prompts are prefilled in their clients' turn ({@link #prefillOrder}): a client's next
 * prompt ranks by the rows it has in the batch already, so a newcomer beside a client holding most of the batch
 * has its first token after its own prompt, not after that client's prompts admitted just before it.
 *
 * <p>When every place is held and the sequence next in turn belongs to a client holding at least two places
 * fewer than the client holding the most, that client gives up its youngest running sequence
 * ({@link #preemption}): that one waits again at the head of its client's turn and resumes first when its
 * client is next served, so a newcomer waits one decode pass behind a client holding the whole batch rather
 * than one of its sequences' whole generation, and clients sharing a full batch converge on equal shares.
 *
 * <p>Places are not all equally cheap: on a small model a pass costs about as much per row, so a client holding
 * several places slows every other client's next token. A client with more sequences (admitted here, waiting
 * here, or queued for an admission slot) than a neighbour holding a place therefore holds places beyond its
 * first only while the passes are expected ({@link PassTimes}, from the passes that ran) to take at most
 * {@code maxNeighbourSlowdown} times what its neighbours' rows alone would: it is not admitted more, and
 * gives up its youngest sequences
 * ({@link #preemption}) when the batch grows past that. Where extra rows are nearly free (a large memory-bound
 * model) it keeps them; with no neighbour it takes every place. No threads and no tensors: the scheduler calls
 * it under its own lock.
 *
 * @param <S> a sequence
 */
final class BatchPolicy<S> {

    private final int maxBatchSize;
    private final int prefillTokensPerStep;
    private final Function<S, String> clientOf;
    private final ToIntFunction<String> queuedForAdmission;
    private final PassTimes passTimes;
    private final double maxNeighbourSlowdown;
    /** Arrival order; a sequence that was admitted before and waits again is put first. */
    private final Deque<S> waiting = new ArrayDeque<>();
    private final List<S> prefilling = new ArrayList<>();
    /** Waiting sequences that ran before: they rejoin with the KV they have, without a prefill. */
    private final Set<S> resuming = new HashSet<>();
    /** Each client's admitted sequences, oldest first. */
    private final Map<String, List<S>> admittedByClient = new HashMap<>();
    private int admitted;

    /**
     * @param clientOf             whose a sequence is: the unit of fair share
     * @param queuedForAdmission   a client's requests still queued for an admission slot, before they come here
     * @param passTimes            what the passes that ran cost by their rows
     * @param maxNeighbourSlowdown how much slower than their rows alone a client holding places beyond its
     *                             first may make the passes it shares with clients that have fewer sequences
     *                             (queued ones included; at least 1)
     */
    BatchPolicy(int maxBatchSize, int prefillTokensPerStep, Function<S, String> clientOf,
                ToIntFunction<String> queuedForAdmission, PassTimes passTimes, double maxNeighbourSlowdown) {
        if (maxBatchSize < 1 || prefillTokensPerStep < 1 || !(maxNeighbourSlowdown >= 1)) {
            throw new IllegalArgumentException("The batch size and the prefill budget must be at least 1, "
                    + "and so must the neighbour slowdown");
        }
        this.maxBatchSize = maxBatchSize;
        this.prefillTokensPerStep = prefillTokensPerStep;
        this.clientOf = clientOf;
        this.queuedForAdmission = queuedForAdmission;
        this.passTimes = passTimes;
        this.maxNeighbourSlowdown = maxNeighbourSlowdown;
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

    /** A place is free and a waiting sequence may take it (its client's neighbours allow it one more). */
    boolean canAdmit() {
        return admitted < maxBatchSize && nextToAdmit() != null;
    }

    /**
     * Admits waiting sequences while the batch has room, each time one of the client with the fewest
     * admitted that its neighbours allow one more place; they are to be prefilled, but for those that
     * {@link #requeue ran before}: they rejoin as they are.
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

    /** The first waiting sequence of the client with the fewest admitted that may take a place; null if none. */
    private S nextToAdmit() {
        S chosen = null;
        int fewest = Integer.MAX_VALUE;
        for (S sequence : waiting) {
            String client = clientOf.apply(sequence);
            int clientAdmitted = admittedOf(client);
            if (clientAdmitted < fewest && slowsNeighboursWithin(client, clientAdmitted + 1, admitted + 1)) {
                chosen = sequence;
                fewest = clientAdmitted;
            }
        }
        return chosen;
    }

    /**
     * Whether {@code client} may hold {@code places} in a batch of {@code rows}: always its first place, and
     * more while no client holding a place has fewer sequences, or while the passes are expected to take at
     * most {@link #maxNeighbourSlowdown} times what its neighbours' rows would take without any of its own.
     * Weighed against its first place instead, a place each could cost a neighbour that factor on top of what
     * the first costs (on the bundled model with two neighbours, 1.3 times a pass of theirs, so 1.6 in all).
     */
    private boolean slowsNeighboursWithin(String client, int places, int rows) {
        if (places < 2 || !hasSmallerNeighbour(client)) {
            return true;
        }
        return passTimes.withinFactor(rows, rows - places, maxNeighbourSlowdown);
    }

    /** Another client holds a place and has fewer sequences than {@code client} (admitted, waiting or queued). */
    private boolean hasSmallerNeighbour(String client) {
        int demand = demandOf(client);
        for (String other : admittedByClient.keySet()) {
            if (!other.equals(client) && demandOf(other) < demand) {
                return true;
            }
        }
        return false;
    }

    private int demandOf(String client) {
        int sequences = admittedOf(client) + queuedForAdmission.applyAsInt(client);
        for (S sequence : waiting) {
            if (clientOf.apply(sequence).equals(client)) {
                sequences++;
            }
        }
        return sequences;
    }

    private int admittedOf(String client) {
        List<S> sequences = admittedByClient.get(client);
        return sequences == null ? 0 : sequences.size();
    }

    /**
     * A sequence to give up its place, if one must: the youngest that {@code preemptible} allows of a client
     * whose places slow its neighbours beyond {@code maxNeighbourSlowdown}; else, when every place is held and
     * the sequence next in turn belongs to a client holding at least two places fewer than the client holding
     * the most, the youngest of that client. It waits again first in its client's turn; the caller takes it out
     * of the batch. Call it until it finds none: each call takes one.
     */
    Optional<S> preemption(Predicate<S> preemptible) {
        Optional<List<S>> giving = overSlowdown().or(this::crowdingOut);
        if (giving.isEmpty()) {
            return Optional.empty();
        }
        List<S> sequences = giving.get();
        for (int i = sequences.size() - 1; i >= 0; i--) {
            S victim = sequences.get(i);
            if (preemptible.test(victim)) {
                retire(victim);
                requeue(victim);
                return Optional.of(victim);
            }
        }
        return Optional.empty();
    }

    /** The sequences of a client holding more places than its neighbours allow it. */
    private Optional<List<S>> overSlowdown() {
        return admittedByClient.entrySet().stream()
                .filter(client -> !slowsNeighboursWithin(client.getKey(), client.getValue().size(), admitted))
                .map(Map.Entry::getValue)
                .findFirst();
    }

    /** The sequences of the client holding the most places, if the one next in turn holds two fewer. */
    private Optional<List<S>> crowdingOut() {
        if (admitted < maxBatchSize) {
            return Optional.empty();
        }
        S next = nextToAdmit();
        if (next == null) {
            return Optional.empty();
        }
        int fewest = admittedOf(clientOf.apply(next));
        List<S> largest = admittedByClient.values().stream()
                .max((a, b) -> Integer.compare(a.size(), b.size())).orElseThrow();
        return largest.size() < fewest + 2 ? Optional.empty() : Optional.of(largest);
    }

    /** The budget of one iteration's prefill: hands out tokens to admitted prompts in {@link #prefillOrder}. */
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

    /**
     * The prompts still being prefilled, in the order they are served: each client's in arrival order, its
     * k-th ranking as the rows it has in the batch (places not prefilling) plus k, and lower ranks first
     * (arrival order among equals). So clients' prompts take turns, a client with fewer rows first: one with
     * nothing running goes ahead of the prompts of one that holds most places, which would otherwise delay
     * its first token by their whole prefill.
     */
    List<S> prefillOrder() {
        Map<String, Integer> nextRank = new HashMap<>();
        Map<S, Integer> rank = new HashMap<>();
        for (S sequence : prefilling) {
            int r = nextRank.computeIfAbsent(clientOf.apply(sequence), this::rowsOf);
            rank.put(sequence, r);
            nextRank.put(clientOf.apply(sequence), r + 1);
        }
        List<S> order = new ArrayList<>(prefilling);
        order.sort(Comparator.comparingInt(rank::get)); // stable: arrival order among equal ranks
        return order;
    }

    /** The places {@code client} holds with a row in the batch (or joining it): admitted and not prefilling. */
    private int rowsOf(String client) {
        int rows = admittedOf(client);
        for (S sequence : prefilling) {
            if (clientOf.apply(sequence).equals(client)) {
                rows--;
            }
        }
        return rows;
    }

    /** One iteration's prefill budget. */
    final class Prefill {

        private int left = prefillTokensPerStep;

        /** The sequence to prefill next, or null when the budget is spent or nothing is left to prefill. */
        S next() {
            return left > 0 && !prefilling.isEmpty() ? prefillOrder().get(0) : null;
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
