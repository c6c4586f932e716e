package dev.kvshare.generation;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Who runs next, and who is refused: at most {@code maxRunning} items run and {@code maxQueued} wait, and
 * each client (a tenant or a remote address) runs at most {@code maxRunningPerClient} and waits with at most
 * {@code maxQueuedPerClient}. A freed slot goes to the waiting client that runs the fewest items, clients
 * with equal shares taking turns (round robin; first come first served within a client), so a newcomer waits
 * about one slot turnover behind a client holding every slot, however many that client has queued. Plain bookkeeping, no threads: the caller starts what
 * {@link #offer} and {@link #release} hand it.
 *
 * @param <T> what is admitted (a request)
 */
final class FairAdmission<T> {

    /** What became of an offered item. */
    enum Outcome {
        /** Holds a slot now: start it. */
        RUNNING,
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
        if (clientQueued >= limits.maxQueuedPerClient()) {
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

    /**
     * A running item of {@code client} ended: its slot goes to the next waiting client whose turn it is and
     * that is under its own bound, if any.
     *
     * @return the item to start now (already counted as running)
     */
    synchronized Optional<T> release(String client) {
        Integer clientRunning = runningByClient.get(client);
        if (clientRunning == null) {
            throw new IllegalStateException("No item of this client runs");
        }
        if (clientRunning == 1) {
            runningByClient.remove(client);
        } else {
            runningByClient.put(client, clientRunning - 1);
        }
        running--;
        return next();
    }

    /** The waiting client running the fewest items gets the slot; among equals, the one whose turn came first. */
    private Optional<T> next() {
        String chosen = null;
        int fewest = Integer.MAX_VALUE;
        for (String client : turns) {
            int clientRunning = runningByClient.getOrDefault(client, 0);
            if (clientRunning < limits.maxRunningPerClient() && clientRunning < fewest) {
                chosen = client;
                fewest = clientRunning;
            }
        }
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

    Limits limits() {
        return limits;
    }
}
