package dev.kvshare.generation;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.ToIntFunction;

import dev.kvshare.model.BatchedKv;
import dev.kvshare.model.DecoderModel;
import dev.kvshare.model.KvCache;
import dev.kvshare.model.KvRow;
import dev.kvshare.model.Logits;
import dev.kvshare.observability.BatchMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Advances every running sequence of one model in one batched decode pass per step. Each iteration of its
 * thread admits waiting sequences and prefills admitted prompts as its {@link BatchPolicy} says (up to
 * {@code max-batch-size} admitted, at most {@code prefill-tokens-per-step} prompt tokens per iteration, fewer
 * while streams run as {@link PrefillPacing} allows, so that long prompts do not stall running streams; several
 * prompts share a pass where they fit, {@link PrefillPass}), waits until every running sequence has handed
 * in its next token or left, repacks the batch's KV if sequences joined or left, and runs the pass. A plain
 * sampler's tokens are sampled here, right after the pass, and handed in at once ({@link #startSampled}); such
 * a sequence's last token takes its row out of the batch at the next repack, for its thread to read, without
 * the batch waiting for that thread to leave. Other sequences sample on their own threads. Every sequence
 * detokenizes on its own thread; none of them writes to a client (their text goes to an {@link OutputBuffer}),
 * so what the scheduler waits for is sampling, never a socket.
 *
 * <p>Only the scheduler thread waits on this monitor: a sequence's thread parks on its own until what it
 * waits for is ready ({@link #awaitFor}), so a pass wakes its rows' threads and no other.
 *
 * <p>A sequence leaves the batch without leaving the scheduler when it is preempted (its client holds the
 * most places while another client has none, or its extra rows slow its neighbours' passes too much:
 * {@link BatchPolicy#preemption}) or paused (its client is not reading, {@link #pause}): its row is copied
 * out of the batch ({@link BatchedSequence#parked}) with the token it handed in, and it rejoins with that row, computing nothing again, once it is admitted again (a preempted one
 * first in its client's turn; a paused one once its thread hands in its token).
 *
 * <p>Every native tensor here is owned by the scheduler thread alone: the batch's in the {@link NativeBatch}'s
 * scope, a sequence's until it joins (its past, prefill caches) in the sequence's scope, which the scheduler
 * closes once the batch holds a copy or the sequence is gone, and a parked row until it rejoins. A sequence's
 * thread only touches its float logits row, and only while the scheduler waits for its token.
 */
final class BatchScheduler {

    private static final Logger log = LoggerFactory.getLogger(BatchScheduler.class);

    private final DecoderModel model;
    private final BatchMetrics metrics;
    private final int maxBatchSize;
    private final Thread thread;

    // Guarded by this (its prefill order is the scheduler thread's own).
    private final BatchPolicy<BatchedSequence> policy;
    /** Fed by the scheduler thread after each pass; the policy's measure of what a client's extra rows cost. */
    private final PassTimes passTimes = new PassTimes();
    private boolean closing;
    /** Why the scheduler thread stopped on an unexpected error; null while it runs (or after a clean close). */
    private volatile Throwable failure;

    // The scheduler thread's own.
    private final List<BatchedSequence> joining = new ArrayList<>();
    private final List<BatchedSequence> running = new ArrayList<>();
    private final NativeBatch batch;
    private final PrefillPacing pacing;
    /** Sequences that were still waiting when the scheduler failed or closed: their scope is closed on the way out. */
    private final List<BatchedSequence> failedWaiting = new ArrayList<>();
    /** Sequences out of the batch with their row ({@link BatchedSequence.State#PARKED}); guarded by this. */
    private final Set<BatchedSequence> parked = new HashSet<>();

    /** @param queuedForAdmission a client's requests queued for an admission slot (not yet sequences here) */
    BatchScheduler(DecoderModel model, int maxBatchSize, int prefillTokensPerStep, double maxNeighbourSlowdown,
                   ToIntFunction<String> queuedForAdmission, BatchMetrics metrics) {
        this.model = model;
        this.policy = new BatchPolicy<>(maxBatchSize, prefillTokensPerStep, sequence -> sequence.client,
                queuedForAdmission, passTimes, maxNeighbourSlowdown);
        this.metrics = metrics;
        this.maxBatchSize = maxBatchSize;
        this.batch = new NativeBatch(model, maxBatchSize);
        this.pacing = new PrefillPacing(prefillTokensPerStep);
        this.thread = new Thread(this::loop, "batch-scheduler");
        thread.setDaemon(true);
        thread.start();
    }

    /** Why the scheduler stopped serving, if it did: no sequence can run here any more. */
    Optional<Throwable> failure() {
        return Optional.ofNullable(failure);
    }

    /** @param client whose sequence it is: the batch's places are shared fairly between clients */
    BatchedSequence sequence(KvCache past, CachedDecoder.PrefillListener listener, String client) {
        return new BatchedSequence(this, past, listener, client, model.io().vocabSize());
    }

    // ---- the sequences' side ----

    float[] start(BatchedSequence sequence, int[] prompt) {
        synchronized (this) {
            enqueue(sequence, prompt);
        }
        return awaitLogits(sequence);
    }

    /**
     * As {@link #start}, for a sequence whose tokens this scheduler's thread samples with {@code sampler} (a
     * plain one) until {@code ending} says it ends: returns the first token; {@link #takeToken} the next ones.
     */
    int startSampled(BatchedSequence sequence, int[] prompt, Sampler sampler, TokenEnding ending) {
        synchronized (this) {
            sequence.sampler = sampler;
            sequence.ending = ending;
            enqueue(sequence, prompt);
        }
        return awaitToken(sequence);
    }

    private void enqueue(BatchedSequence sequence, int[] prompt) {
        if (sequence.state != BatchedSequence.State.NEW || closing) {
            throw new IllegalStateException("This sequence cannot start: "
                    + (closing ? "shutting down" : sequence.state));
        }
        // Made here, so that a prompt the past already covers fails its own request, not the scheduler.
        sequence.prefill = new PromptPrefill(model, prompt, sequence.past, sequence.listener, sequence.scope);
        sequence.state = BatchedSequence.State.WAITING;
        policy.enqueue(sequence);
        notifyAll();
    }

    float[] next(BatchedSequence sequence, int token) {
        synchronized (this) {
            handIn(sequence, token);
        }
        return awaitLogits(sequence);
    }

    /**
     * The next token sampled for a sequence that {@link #startSampled started sampled}. Its thread takes each
     * one while the next pass runs; a token sampled before the thread took the one before it is handed in
     * for the next pass only now, so a thread that falls behind holds up the batch by at most one token, as
     * a thread sampling its own would.
     */
    int takeToken(BatchedSequence sequence) {
        return awaitToken(sequence);
    }

    /** The sequence's thread feeds {@code token} to the next pass (a paused or parked one resumes). */
    private void handIn(BatchedSequence sequence, int token) {
        switch (sequence.state) {
            case JOINING, RUNNING -> { }
            case PARKED -> {
                if (closing) {
                    throw new IllegalStateException("This sequence cannot resume: shutting down");
                }
                policy.requeue(sequence); // paused: it rejoins first in its client's turn
            }
            default -> throw new IllegalStateException("This sequence is not running: " + sequence.state);
        }
        sequence.paused = false;
        sequence.token = token;
        notifyAll();
    }

    /** The sequence holds its logits and hands in no token for a while: the batch goes on without it. */
    synchronized void pause(BatchedSequence sequence) {
        if (sequence.state == BatchedSequence.State.JOINING || sequence.state == BatchedSequence.State.RUNNING) {
            sequence.paused = true;
            notifyAll();
        }
    }

    private float[] awaitLogits(BatchedSequence sequence) {
        awaitFor(sequence, () -> sequence.logitsReady);
        synchronized (this) {
            sequence.logitsReady = false;
            return sequence.logits;
        }
    }

    /** Takes the sequence's oldest sampled token; hands in the one held back for it, if any. */
    private int awaitToken(BatchedSequence sequence) {
        awaitFor(sequence, () -> !sequence.sampled.isEmpty());
        synchronized (this) {
            int token = sequence.sampled.removeFirst();
            if (sequence.heldToken != BatchedSequence.NO_TOKEN && sequence.sampled.size() <= 1) {
                int held = sequence.heldToken;
                sequence.heldToken = BatchedSequence.NO_TOKEN;
                handIn(sequence, held);
            }
            return token;
        }
    }

    /**
     * Waits (on the sequence's thread, not holding the monitor) until {@code ready}, which is read under the
     * monitor; throws the sequence's failure if it failed. The sequence's thread parks on its own, and only
     * what makes it ready wakes it ({@link #wake}): a pass wakes the threads of its rows, not every thread
     * waiting on the scheduler (parked and waiting sequences' among them), which would each take the monitor
     * in turn on cores the next pass needs.
     */
    private void awaitFor(BatchedSequence sequence, BooleanSupplier ready) {
        boolean interrupted = false;
        while (true) {
            synchronized (this) {
                if (ready.getAsBoolean() || sequence.failure != null) {
                    sequence.waiter = null;
                    break;
                }
                sequence.waiter = Thread.currentThread();
            }
            LockSupport.park(this); // returns at once if woken since the check above
            interrupted |= Thread.interrupted(); // a pass under way finishes before this sequence can leave
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (sequence.failure != null) {
            throw sequence.failure;
        }
    }

    /** Wakes the sequence's thread if it waits for its logits or token ({@link #awaitFor}); under the monitor. */
    private static void wake(BatchedSequence sequence) {
        if (sequence.waiter != null) {
            LockSupport.unpark(sequence.waiter);
        }
    }

    /**
     * The sequence's KV, for its own thread while it holds its logits: until it hands in a token or leaves, no
     * pass or repack runs, so neither the batch nor its prefilled cache changes (reads lease the cache, against
     * a failing scheduler's release). Sampled here, once it took its last token (never handed in), its row is
     * read out of the batch, where the passes go on without it: once the next repack has parked it.
     */
    KvRow kvOf(BatchedSequence sequence) {
        if (sequence.finished) {
            awaitFor(sequence, () -> sequence.state != BatchedSequence.State.RUNNING);
        }
        synchronized (this) {
            return switch (sequence.state) {
                case JOINING, PARKED -> sequence.ownRow();
                case RUNNING -> batch.row(running.indexOf(sequence));
                default -> throw new IllegalStateException("This sequence holds no KV: " + sequence.state);
            };
        }
    }

    /** The sequence is done (finished, failed or cancelled); its KV is freed by the scheduler thread. */
    synchronized void leave(BatchedSequence sequence) {
        sequence.left = true;
        if (sequence.state == BatchedSequence.State.NEW || sequence.state == BatchedSequence.State.WAITING) {
            policy.withdraw(sequence);
            sequence.state = BatchedSequence.State.GONE;
            sequence.scope.close(); // the scheduler never took it
        } else if (sequence.state == BatchedSequence.State.PARKED) {
            policy.withdraw(sequence);
            unpark(sequence).close();
            sequence.state = BatchedSequence.State.GONE;
        }
        notifyAll();
    }

    // ---- the scheduler thread ----

    private void loop() {
        try {
            while (awaitWork()) {
                admit();
                prefill();
                if (awaitRunningTokens()) {
                    repack();
                    decode();
                }
            }
        } catch (RuntimeException | Error e) {
            log.error("The batch scheduler failed; running and waiting sequences fail with it", e);
            failure = e;
            failAll(e instanceof RuntimeException runtime ? runtime
                    : new IllegalStateException("The batch scheduler failed", e));
        } finally {
            releaseAll();
        }
    }

    /** Waits until there is something to do; false once closing with nothing left. */
    private synchronized boolean awaitWork() {
        while (true) {
            boolean ready = policy.prefilling() || policy.canAdmit()
                    || joining.stream().anyMatch(s -> s.left || s.token != BatchedSequence.NO_TOKEN)
                    || (!running.isEmpty() && allRunningReady());
            if (ready) {
                return true;
            }
            if (closing && policy.idle() && parked.isEmpty()) {
                return false;
            }
            waitUninterruptibly();
        }
    }

    private synchronized void admit() {
        // One that left or finished gives up its place now, not at the repack that drops its row: a sequence
        // admitted in its stead (a parked one, above all) joins in that same repack, so the batch changes once.
        for (List<BatchedSequence> group : List.of(running, joining)) {
            group.stream().filter(sequence -> sequence.left || sequence.finished).forEach(policy::retire);
        }
        Optional<BatchedSequence> victim;
        while ((victim = policy.preemption(s -> s.state == BatchedSequence.State.RUNNING && !s.left
                && !s.finished)).isPresent()) {
            victim.get().preempted = true;
        }
        for (BatchedSequence sequence : policy.admit()) {
            switch (sequence.state) {
                case PARKED -> {
                    parked.remove(sequence);
                    sequence.state = BatchedSequence.State.JOINING; // with its row and the token it handed in
                    joining.add(sequence);
                }
                // Preempted and admitted again before the repack parked it (a client's queued requests, which
                // the policy weighs, can change in between): it keeps its row and its place.
                case RUNNING -> sequence.preempted = false;
                default -> sequence.state = BatchedSequence.State.PREFILLING;
            }
        }
    }

    /**
     * Prefills admitted prompts as the policy hands out this iteration's budget, within what the pacing allows
     * while streams run, in passes that each run several prompts together where they can ({@link PrefillPass}).
     */
    private void prefill() {
        BatchPolicy<BatchedSequence>.Prefill budget = policy.prefill();
        int allowed = pacing.tokens(running.size(), policy.prefillOrder().size());
        long start = System.nanoTime();
        while (budget.next() != null && budget.used() < allowed) {
            List<BatchedSequence> order = new ArrayList<>(policy.prefillOrder());
            order.removeIf(sequence -> leftWhile(sequence, BatchedSequence.State.PREFILLING));
            if (order.isEmpty()) {
                break;
            }
            PrefillPass pass = PrefillPass.plan(order, Math.min(budget.grant(), allowed - budget.used()));
            Logits logits = pass.lastTokens() ? batch.prefillLogits(pass.rows().size()) : null;
            try {
                pass.run(model, logits);
            } catch (RuntimeException e) {
                for (BatchedSequence sequence : pass.rows()) {
                    sequence.scope.close();
                    retire(sequence);
                    fail(sequence, e);
                }
                continue;
            }
            metrics.prefillPass(pass.rows().size());
            for (int r = 0; r < pass.rows().size(); r++) {
                BatchedSequence sequence = pass.rows().get(r);
                boolean done = sequence.prefill.remaining() == 0;
                budget.spent(sequence, pass.tokensPerRow(), done);
                if (done) {
                    sequence.prefilled = sequence.prefill.cache();
                    sequence.prefill = null;
                    logits.copyRow(r, sequence.logits);
                    joining.add(sequence);
                    publish(sequence, sampleHere(sequence));
                }
            }
        }
        if (budget.used() > 0) {
            pacing.prefilled(budget.used(), System.nanoTime() - start);
            metrics.prefilled(budget.used());
        }
    }

    /** Waits until every running sequence has a token or has left; false when no pass is due. */
    private synchronized boolean awaitRunningTokens() {
        while (!allRunningReady()) {
            waitUninterruptibly();
        }
        return !running.isEmpty() || joining.stream().anyMatch(s -> s.left || s.token != BatchedSequence.NO_TOKEN);
    }

    private boolean allRunningReady() {
        return running.stream()
                .allMatch(s -> s.left || s.paused || s.finished || s.token != BatchedSequence.NO_TOKEN);
    }

    /**
     * When sequences joined or left, changes the batch's rows in place ({@link dev.kvshare.model.KvArena}: a
     * joining sequence's cache or parked row is written after the last row, a leaving row's place is taken by
     * the last row); the rows of paused and finished sequences, and of preempted ones whose place a joining
     * sequence needs, are copied out first, to be parked. A preempted sequence keeps its row, and runs, while the sequence
     * admitted in its stead is still prefilling: it is parked in the change that adds that sequence, so a
     * preemption changes the batch once, not twice.
     */
    private void repack() {
        List<Integer> leaving = new ArrayList<>();
        List<BatchedSequence> parking = new ArrayList<>();
        List<BatchedSequence> joiners = new ArrayList<>();
        List<KvRow> joinerRows = new ArrayList<>();
        synchronized (this) {
            for (BatchedSequence sequence : List.copyOf(joining)) {
                if (sequence.left) {
                    joining.remove(sequence);
                    sequence.closeJoiningKv();
                    retire(sequence);
                } else if (sequence.token != BatchedSequence.NO_TOKEN) {
                    joining.remove(sequence);
                    joiners.add(sequence);
                    joinerRows.add(sequence.ownRow());
                    sequence.state = BatchedSequence.State.RUNNING;
                }
            }
            // Places the preempted rows may keep: those no joining row takes, while one admitted is on its way.
            boolean arriving = !joining.isEmpty() || !policy.prefillOrder().isEmpty();
            long room = !arriving ? 0 : maxBatchSize - joiners.size()
                    - running.stream().filter(s -> !s.left && !s.paused && !s.finished && !s.preempted).count();
            for (int r = 0; r < running.size(); r++) {
                BatchedSequence sequence = running.get(r);
                if (sequence.left) {
                    policy.withdraw(sequence); // preempted, it waits again already
                    retire(sequence);
                    leaving.add(r);
                } else if (sequence.paused || sequence.finished) {
                    parking.add(sequence);
                } else if (sequence.preempted) {
                    if (room > 0) {
                        room--;
                    } else {
                        parking.add(sequence);
                    }
                }
            }
        }
        if (leaving.isEmpty() && parking.isEmpty() && joiners.isEmpty()) {
            return; // membership unchanged: the last pass's present is this pass's past as it is
        }
        long start = System.nanoTime();
        for (BatchedSequence sequence : parking) {
            int r = running.indexOf(sequence);
            park(sequence, model.pack(List.of(batch.row(r))));
            leaving.add(r);
        }
        int[] order = batch.change(leaving, joinerRows);
        metrics.repacked(System.nanoTime() - start, batch.bytesCopied());
        joiners.forEach(BatchedSequence::closeJoiningKv);
        List<BatchedSequence> before = List.copyOf(running);
        running.clear();
        for (int o : order) {
            running.add(o >= 0 ? before.get(o) : joiners.get(-1 - o));
        }
    }

    /**
     * The sequence is out of the batch with its row. It waits again, first in its client's turn, if it has a
     * token (a preempted one has; a paused one may have handed it in while its row was copied); otherwise
     * its next token puts it there ({@link #next}). A finished one never waits again: its thread reads the row
     * ({@link #kvOf}) and frees it by leaving.
     */
    private synchronized void park(BatchedSequence sequence, BatchedKv row) {
        if (!sequence.finished) {
            metrics.parked(sequence.preempted);
            log.debug("Parked a sequence of {}: {}", sequence.client,
                    sequence.preempted ? "preempted for another client" : "paused, its client is not reading");
        }
        sequence.parked = row;
        sequence.preempted = false;
        policy.retire(sequence);
        policy.withdraw(sequence);
        if (sequence.left) {
            row.close();
            sequence.parked = null;
            sequence.state = BatchedSequence.State.GONE;
            return;
        }
        sequence.state = BatchedSequence.State.PARKED;
        parked.add(sequence);
        if (sequence.token != BatchedSequence.NO_TOKEN) {
            policy.requeue(sequence);
        }
        wake(sequence); // a finished one may wait to read its row (kvOf)
    }

    /** Takes a parked sequence's row back from it, for the caller to close. */
    private BatchedKv unpark(BatchedSequence sequence) {
        parked.remove(sequence);
        BatchedKv row = sequence.parked;
        sequence.parked = null;
        return row;
    }

    private void decode() {
        if (running.isEmpty()) {
            return;
        }
        int[] tokens = new int[running.size()];
        synchronized (this) {
            for (int r = 0; r < tokens.length; r++) {
                tokens[r] = running.get(r).token;
                running.get(r).token = BatchedSequence.NO_TOKEN;
            }
        }
        long start = System.nanoTime();
        pacing.passStarts(start);
        double padding = batch.paddingShare();
        try {
            batch.step(tokens, running.stream().map(sequence -> sequence.logits).toList());
        } catch (RuntimeException e) {
            List<BatchedSequence> failed = List.copyOf(running);
            for (BatchedSequence sequence : failed) {
                fail(sequence, e);
            }
            return;
        }
        long passNanos = System.nanoTime() - start;
        passTimes.ran(tokens.length, passNanos);
        // Sampled here, outside the lock: a sampled sequence's thread never touches its logits.
        int[] chosen = new int[tokens.length];
        for (int r = 0; r < chosen.length; r++) {
            chosen[r] = sampleHere(running.get(r));
        }
        synchronized (this) {
            for (int r = 0; r < chosen.length; r++) {
                BatchedSequence sequence = running.get(r);
                if (sequence.sampler == null) {
                    sequence.logitsReady = true;
                } else if (chosen[r] != BatchedSequence.NO_TOKEN) {
                    deliver(sequence, chosen[r]);
                }
                wake(sequence);
            }
        }
        metrics.pass(tokens.length, padding, passNanos);
    }

    /**
     * The sequence's next token if this thread samples it, from the logits just written; else, or if its
     * sampler failed (that sequence fails, not the batch), {@link BatchedSequence#NO_TOKEN}.
     */
    private int sampleHere(BatchedSequence sequence) {
        if (sequence.sampler == null) {
            return BatchedSequence.NO_TOKEN;
        }
        try {
            return sequence.sampler.next(sequence.logits);
        } catch (RuntimeException e) {
            fail(sequence, e);
            return BatchedSequence.NO_TOKEN;
        }
    }

    /**
     * A token sampled here for the sequence, for its thread to take. It is handed in for the next pass at
     * once if the thread took every token before it (and is reading), else when it has ({@link #awaitToken});
     * the last one, with which the sequence ends, never
     * is: the sequence is finished, and the next repack takes its row out of the batch, parked for its thread
     * to read ({@link #kvOf}) and free when it leaves, so the batch does not wait for that thread.
     */
    private void deliver(BatchedSequence sequence, int token) {
        sequence.sampledCount++;
        boolean caughtUp = sequence.sampled.isEmpty() && !sequence.paused;
        sequence.sampled.addLast(token);
        if (sequence.ending.endsAt(token, sequence.sampledCount)) {
            sequence.finished = true;
            return;
        }
        if (caughtUp) {
            sequence.token = token;
        } else {
            sequence.heldToken = token;
        }
    }

    private boolean leftWhile(BatchedSequence sequence, BatchedSequence.State state) {
        synchronized (this) {
            if (!sequence.left) {
                return false;
            }
            retire(sequence);
        }
        if (state == BatchedSequence.State.PREFILLING) {
            sequence.scope.close();
        }
        return true;
    }

    /** The sequence's prompt is prefilled: its logits, or its first token if it is sampled here, are ready. */
    private synchronized void publish(BatchedSequence sequence, int sampledToken) {
        sequence.state = BatchedSequence.State.JOINING;
        if (sequence.sampler == null) {
            sequence.logitsReady = true;
        } else if (sampledToken != BatchedSequence.NO_TOKEN) {
            deliver(sequence, sampledToken);
        }
        wake(sequence);
    }

    /** Frees the sequence's slot; its KV has been (or is being) closed by the caller. */
    private synchronized void retire(BatchedSequence sequence) {
        sequence.state = BatchedSequence.State.GONE;
        policy.retire(sequence);
        notifyAll();
    }

    /** A sequence whose pass failed: its thread gets the exception; its KV is closed here or at its repack. */
    private synchronized void fail(BatchedSequence sequence, RuntimeException e) {
        sequence.failure = e;
        wake(sequence);
    }

    /** Fails every sequence; the waiting ones are taken out here, their KV closed by {@link #releaseAll}. */
    private synchronized void failAll(RuntimeException e) {
        closing = true;
        failedWaiting.addAll(policy.drainWaiting());
        for (List<BatchedSequence> group
                : List.of(failedWaiting, policy.prefillOrder(), joining, running, List.copyOf(parked))) {
            for (BatchedSequence sequence : group) {
                sequence.failure = e;
                wake(sequence);
            }
        }
    }

    private void releaseAll() {
        for (BatchedSequence sequence : policy.prefillOrder()) {
            sequence.scope.close();
        }
        joining.forEach(BatchedSequence::closeJoiningKv);
        synchronized (this) {
            failedWaiting.addAll(policy.drainWaiting());
            for (BatchedSequence sequence : failedWaiting) {
                sequence.scope.close(); // a parked one's is closed already: it joined once
            }
            for (BatchedSequence sequence : List.copyOf(parked)) {
                unpark(sequence).close();
            }
        }
        batch.close();
    }

    private void waitUninterruptibly() {
        try {
            wait();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("The batch scheduler was interrupted", e);
        }
    }

    /**
     * Stops once the sequences it has are done; call after no new sequence can start. Gives up waiting
     * after {@code timeoutMillis}, as shutdown gives up on sequences that still run.
     */
    void close(long timeoutMillis) throws InterruptedException {
        synchronized (this) {
            closing = true;
            notifyAll();
        }
        thread.join(timeoutMillis);
        if (thread.isAlive()) {
            log.warn("The batch scheduler still runs sequences {} ms into shutdown", timeoutMillis);
        }
    }
}
