package dev.kvshare.generation;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Who runs next, and who is refused: at most {@code maxRunning} items run and {@code maxQueued} wait, and
 * each client (a tenant or a remote address) runs at most {@code maxRunningPerClient} and waits with at most
 * {@code maxQueuedPerClient}. A freed slot goes to the waiting client that runs the fewest items, clients
 * with equal shares taking turns (round robin; first come first served within a client).
 *
 * <p>A client with nothing waiting does not wait for a slot turnover while every slot is held and another
 * client runs at least two more items than it does: its item starts at once, and the client running the most
 * has one of its running items counted as parked instead ({@link Outcome#PREEMPTING}); the batch scheduler
 * takes that client's youngest sequence out of the batch until a place frees ({@link BatchPolicy#preemption}).
 * So clients sharing a full service converge on equal shares without anyone waiting for a stream to end. A parked item takes a place in its client's
 * queue share (the client may queue one fewer request while it has one); and since preemption only ever moves
 * a client's item from running to parked, never gives it another, parked items stay below
 * {@code maxRunning} in all. When a slot frees, a parked item resumes before anything queued starts.
 *
 * <p>A running item whose client stops reading ({@link #pause}) lends its slot to another client's parked or
 * queued item until it goes on ({@link #resume}): then it takes a free slot back at once, or else is counted as
 * parked, first to resume. Plain bookkeeping, no threads: the caller starts what {@link #offer},
 * {@link #pause} and {@link #release} hand it.
 *
 * @param <T> what is admitted (a request)
 */
final class FairAdmission<T> {

    /** What became of an offered item. */
    enum Outcome {
        /** Holds a slot now: start it. */
        RUNNING,
        /** Start it now: another client's running item was counted as parked to make room. */
        PREEMPTING,
        /** Waits for a slot; {@link #release} hands it out later. */
        QUEUED,
        /** Refused: its client already runs and waits with its share. */
        CLIENT_AT_QUOTA,
        /** Refused: every slot runs and the queue is full. */
        FULL
    }

    /** The bounds; a per-client bound of at most the global one. */
    record Limits(int maxRunning, int maxQueued, int maxRunningPerClient, int maxQueuedPerClient) {

        Limits {
            if (maxRunning < 1 || maxQueued < 0 || maxRunningPerClient < 1 || maxQueuedPerClient < 0) {
                throw new IllegalArgumentException("Running bounds must be at least 1, queue bounds not negative");
            }
        }
    }

    private final Limits limits;
    private final Map<String, Integer> runningByClient = new HashMap<>();
    private final Map<String, Deque<T>> queuedByClient = new HashMap<>();
    /** Items of a client counted out of their slot to make room for another client's; they resume first. */
    private final Map<String, Integer> parkedByClient = new HashMap<>();
    /** Items that lent their slot while their client does not read; counted neither running nor parked. */
    private final Set<T> paused = new HashSet<>();
    /** Clients with waiting items, in the order they get their next turn. */
    private final Deque<String> turns = new ArrayDeque<>();
    private int running;
    private int queued;

    FairAdmission(Limits limits) {
        this.limits = limits;
    }

    synchronized Outcome offer(String client, T item) {
        int clientRunning = runningByClient.getOrDefault(client, 0);
        Deque<T> clientQueue = queuedByClient.get(client);
        int clientQueued = clientQueue == null ? 0 : clientQueue.size();
        if (running < limits.maxRunning() && clientRunning < limits.maxRunningPerClient() && clientQueued == 0) {
            start(client);
            return Outcome.RUNNING;
        }
        int clientParked = parkedByClient.getOrDefault(client, 0);
        if (clientQueued == 0 && clientParked == 0 && clientRunning < limits.maxRunningPerClient()) {
            Optional<String> victim = preemptible(clientRunning);
            if (victim.isPresent()) {
                String parking = victim.get();
                decrement(runningByClient, parking);
                parkedByClient.merge(parking, 1, Integer::sum);
                runningByClient.merge(client, 1, Integer::sum);
                return Outcome.PREEMPTING;
            }
        }
        if (clientQueued + clientParked >= limits.maxQueuedPerClient()) {
            return Outcome.CLIENT_AT_QUOTA;
        }
        if (queued >= limits.maxQueued()) {
            return Outcome.FULL;
        }
        if (clientQueue == null) {
            clientQueue = new ArrayDeque<>();
            queuedByClient.put(client, clientQueue);
            turns.addLast(client);
        }
        clientQueue.addLast(item);
        queued++;
        return Outcome.QUEUED;
    }

    /** The client running the most items, if it runs at least two more than {@code running}. */
    private Optional<String> preemptible(int running) {
        String most = null;
        int mostRunning = running + 1;
        for (Map.Entry<String, Integer> entry : runningByClient.entrySet()) {
            if (entry.getValue() > mostRunning) {
                most = entry.getKey();
                mostRunning = entry.getValue();
            }
        }
        return Optional.ofNullable(most);
    }

    /**
     * An item of {@code client} ended. If the client has an item parked, that one takes its slot; otherwise the
     * slot goes to a parked item of another client, or else to the next waiting client whose turn it is and
     * that is under its own bound, if any.
     *
     * An item that {@link #pause lent its slot} ends holding none.
     *
     * @return the item to start now (already counted as running); none when a parked one resumed instead
     */
    synchronized Optional<T> release(String client, T item) {
        if (paused.remove(item)) {
            return Optional.empty();
        }
        if (parkedByClient.containsKey(client)) {
            decrement(parkedByClient, client);
            return Optional.empty();
        }
        if (!runningByClient.containsKey(client)) {
            throw new IllegalStateException("No item of this client runs");
        }
        decrement(runningByClient, client);
        running--;
        return resumeParked(null) ? Optional.empty() : next(null);
    }

    /**
     * A running item of {@code client} stepped aside (its client is not reading): its slot goes to another
     * client's parked item, or else to another client's queued one, until {@link #resume}. Nothing is lent when
     * the client has no item counted running (its items wait as parked already).
     *
     * @return the item to start now (already counted as running), if the slot went to a queued one
     */
    synchronized Optional<T> pause(String client, T item) {
        if (!runningByClient.containsKey(client) || !paused.add(item)) {
            return Optional.empty();
        }
        decrement(runningByClient, client);
        running--;
        return resumeParked(client) ? Optional.empty() : next(client);
    }

    /**
     * A paused item goes on: it takes a free slot back, or else is counted as parked, to resume first when a
     * slot frees (meanwhile the batch decides whether it runs, as for a preempted item).
     */
    synchronized void resume(String client, T item) {
        if (!paused.remove(item)) {
            return;
        }
        if (running < limits.maxRunning()) {
            start(client);
        } else {
            parkedByClient.merge(client, 1, Integer::sum);
        }
    }

    /**
     * A parked item of the client running the fewest (under its bound, other than {@code lender}) takes the
     * free slot; false if none.
     */
    private boolean resumeParked(String lender) {
        String chosen = runningFewest(parkedByClient.keySet(), lender);
        if (chosen == null) {
            return false;
        }
        decrement(parkedByClient, chosen);
        start(chosen);
        return true;
    }

    /**
     * Of {@code clients}, the first running the fewest items and under its own bound, other than {@code lender}
     * (null for none); null if none may take a slot.
     */
    private String runningFewest(Iterable<String> clients, String lender) {
        String chosen = null;
        int fewest = Integer.MAX_VALUE;
        for (String client : clients) {
            int clientRunning = runningByClient.getOrDefault(client, 0);
            if (!client.equals(lender) && clientRunning < limits.maxRunningPerClient() && clientRunning < fewest) {
                chosen = client;
                fewest = clientRunning;
            }
        }
        return chosen;
    }

    private static void decrement(Map<String, Integer> counts, String client) {
        counts.computeIfPresent(client, (key, count) -> count == 1 ? null : count - 1);
    }

    /**
     * The waiting client running the fewest items (other than {@code lender}) gets the slot; among equals, the
     * one whose turn came first.
     */
    private Optional<T> next(String lender) {
        String chosen = runningFewest(turns, lender);
        if (chosen == null) {
            return Optional.empty();
        }
        turns.remove(chosen);
        Deque<T> clientQueue = queuedByClient.get(chosen);
        T item = clientQueue.pollFirst();
        queued--;
        if (clientQueue.isEmpty()) {
            queuedByClient.remove(chosen);
        } else {
            turns.addLast(chosen);
        }
        start(chosen);
        return Optional.of(item);
    }

    /** A waiting item left (its client went away); false if it is not waiting (it runs, or never came). */
    synchronized boolean withdraw(String client, T item) {
        Deque<T> clientQueue = queuedByClient.get(client);
        if (clientQueue == null || !clientQueue.remove(item)) {
            return false;
        }
        queued--;
        if (clientQueue.isEmpty()) {
            queuedByClient.remove(client);
            turns.remove(client);
        }
        return true;
    }

    private void start(String client) {
        runningByClient.merge(client, 1, Integer::sum);
        running++;
    }

    synchronized int running() {
        return running;
    }

    synchronized int queued() {
        return queued;
    }

    /** The items of {@code client} waiting for a slot. */
    synchronized int queuedOf(String client) {
        Deque<T> clientQueue = queuedByClient.get(client);
        return clientQueue == null ? 0 : clientQueue.size();
    }

    Limits limits() {
        return limits;
    }
}
