package dev.kvshare.generation;

import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import dev.kvshare.model.ServedModel;
import dev.kvshare.observability.GenerationMetrics;
import dev.kvshare.observability.SequenceObservation;
import dev.kvshare.observability.SequenceObservations;
import jakarta.annotation.PreDestroy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs requests: admits each sequence fairly ({@link FairAdmission}: at most {@code max-concurrent} run and
 * {@code max-queued} wait, each client within its share; past that a request is refused at once, 429, rather
 * than piling up memory) and runs it on a thread of its own, on a decoder from {@link SequenceDecoders}, its
 * text handed to the client by a writer thread ({@link OutputBuffer}).
 */
public class GenerationService {

    private static final Logger log = LoggerFactory.getLogger(GenerationService.class);

    private final ServedModel model;
    private final GenerationMetrics metrics;
    private final SequenceObservations observations;
    private final SequenceDecoders decoders;
    /** The in-process caller of {@link #submit(GenerationRequest, TokenSink)}. */
    private static final String IN_PROCESS_CLIENT = "in-process";

    private final FairAdmission<Submission> admission;
    /** Admitted requests, until their slot is free again. */
    private final Set<Submission> live = ConcurrentHashMap.newKeySet();
    private final long slowClientTimeoutNanos;
    /** Run admitted sequences (admission bounds how many); a thread per sequence, never blocked by a client. */
    private final ExecutorService workers;
    /** Hand sequences' text to their clients; a stalled client holds one of these, nothing else. */
    private final ExecutorService writers;
    private final ScheduledExecutorService slowClientWatch;
    private volatile boolean closing;

    public GenerationService(ServedModel model, GenerationProperties properties, ClientLimits clientLimits,
                             GenerationMetrics metrics, SequenceObservations observations, SequenceDecoders decoders) {
        this.model = model;
        this.metrics = metrics;
        this.observations = observations;
        this.decoders = decoders;
        this.admission = new FairAdmission<>(clientLimits.admissionLimits(properties));
        decoders.queuedBy(admission::queuedOf);
        this.slowClientTimeoutNanos = clientLimits.slowClientTimeout().toNanos();
        this.workers = threadPerTask("generation-", false);
        this.writers = threadPerTask("response-writer-", true);
        this.slowClientWatch = Executors.newSingleThreadScheduledExecutor(named("slow-client-watch", true));
        long period = Math.max(10, Math.min(1_000, clientLimits.slowClientTimeout().toMillis() / 5));
        slowClientWatch.scheduleWithFixedDelay(this::cancelSlowClients, period, period, TimeUnit.MILLISECONDS);
        metrics.bindQueue(admission::running, admission::queued);
    }

    /** A thread for each task, kept a few seconds for the next one (admission, not the pool, bounds them). */
    private static ExecutorService threadPerTask(String prefix, boolean daemon) {
        return new ThreadPoolExecutor(0, Integer.MAX_VALUE, 5, TimeUnit.SECONDS, new SynchronousQueue<>(),
                named(prefix, daemon));
    }

    private static ThreadFactory named(String prefix, boolean daemon) {
        AtomicInteger threads = new AtomicInteger();
        return task -> {
            Thread thread = new Thread(task, prefix + threads.incrementAndGet());
            thread.setDaemon(daemon);
            return thread;
        };
    }

    /** Whether running sequences share batched passes. */
    public boolean batching() {
        return decoders.batching();
    }

    /** Why this service can no longer generate (its batch scheduler stopped on an error), if so. */
    public Optional<Throwable> engineFailure() {
        return decoders.failure();
    }

    /** As {@link #submit(GenerationRequest, String, TokenSink)}, for work of this process (warm-up, benchmarks). */
    public CompletableFuture<GenerationResult> submit(GenerationRequest request, TokenSink sink) {
        return submit(request, IN_PROCESS_CLIENT, sink);
    }

    /**
     * Admits a sequence, or queues it for a fair turn; the future completes once it is done and its text handed
     * to {@code sink}. The sink is called on a writer thread, never the generating one: a client that reads
     * slowly delays only its own text, and one that lets text wait longer than the slow-client timeout is
     * cancelled ({@link SlowClientException}). Cancelling the future (the client went away) stops the sequence
     * at its next token, or takes it out of the queue, and frees its slot.
     *
     * @param client who asked (a tenant, or a remote address): the unit of fair share
     * @throws ServiceOverloadedException when the client already has its share queued, or the queue is full
     */
    public CompletableFuture<GenerationResult> submit(GenerationRequest request, String client, TokenSink sink) {
        SamplingParams sampling = request.sampling();
        SequenceObservation observation = observations.start(request.operation().semanticName(),
                request.promptIds().length, request.maxTokens(), sampling.temperature(), sampling.topP(), sampling.topK());
        Submission submission = new Submission(request, client, sink, writers, observation, slots);
        FairAdmission.Outcome outcome = closing ? FairAdmission.Outcome.FULL : admission.offer(client, submission);
        switch (outcome) {
            case RUNNING, PREEMPTING -> start(submission);
            case QUEUED -> { }
            case CLIENT_AT_QUOTA, FULL -> {
                ServiceOverloadedException refused = refusal(outcome);
                observation.rejected(refused);
                throw refused;
            }
        }
        submission.result.whenComplete((result, failure) -> {
            if (submission.result.isCancelled()) {
                clientLeft(submission);
            }
        });
        return submission.result;
    }

    private ServiceOverloadedException refusal(FairAdmission.Outcome outcome) {
        FairAdmission.Limits limits = admission.limits();
        if (outcome == FairAdmission.Outcome.CLIENT_AT_QUOTA) {
            return new ServiceOverloadedException("You have " + limits.maxQueuedPerClient() + " requests waiting "
                    + "already, your share of the queue (kvshare.limits.max-queued-per-client). Retry when one is done.");
        }
        return new ServiceOverloadedException("The server is at capacity: " + limits.maxRunning()
                + " sequences are generating and " + limits.maxQueued() + " are waiting. Retry shortly.");
    }

    private void start(Submission submission) {
        live.add(submission);
        workers.execute(submission.observation.around(submission.generated, () -> {
            if (submission.cancelled()) {
                submission.observation.clientDisconnected(SequenceObservation.QUEUED);
                submission.generated.cancel(false);
                return;
            }
            try {
                submission.generated(generate(submission));
            } catch (GenerationCancelledException e) {
                if (submission.cancelReason() != Submission.Cancel.SLOW_CLIENT) {
                    submission.observation.clientDisconnected(SequenceObservation.GENERATING);
                }
                submission.generated.cancel(false);
                submission.cancel(Submission.Cancel.CLIENT_GONE);
            } catch (Throwable e) {
                submission.failed(e);
            }
        }));
    }

    /** The caller cancelled: a waiting request leaves the queue, a running one stops and frees its slot. */
    private void clientLeft(Submission submission) {
        if (admission.withdraw(submission.client, submission)) {
            submission.observation.clientDisconnected(SequenceObservation.QUEUED);
            submission.generated.cancel(false);
            submission.observation.around(submission.generated, () -> { }).run();
            return;
        }
        submission.cancel(Submission.Cancel.CLIENT_GONE);
    }

    /** Requests' slots: freed, and lent to other clients while a sequence waits for its client to read. */
    private final Submission.Slot slots = new Submission.Slot() {
        @Override
        public void free(Submission submission) {
            live.remove(submission);
            admission.release(submission.client, submission).ifPresent(GenerationService.this::start);
        }

        @Override
        public void lend(Submission submission) {
            admission.pause(submission.client, submission).ifPresent(GenerationService.this::start);
        }

        @Override
        public void reclaim(Submission submission) {
            admission.resume(submission.client, submission);
        }
    };

    /** Cancels the requests whose clients let text wait longer than the slow-client timeout. */
    private void cancelSlowClients() {
        long now = System.nanoTime();
        for (Submission submission : live) {
            try {
                if (submission.output.lagNanos(now) > slowClientTimeoutNanos) {
                    cancelSlow(submission);
                }
            } catch (RuntimeException e) { // a periodic task that throws is never run again
                log.warn("Could not cancel a slow client's request", e);
            }
        }
    }

    private void cancelSlow(Submission submission) {
        boolean generating = !submission.generated.isDone();
        if (submission.cancel(Submission.Cancel.SLOW_CLIENT)) {
            if (generating) {
                submission.observation.slowClient();
            } else {
                metrics.slowClient("responding"); // the sequence's observation is over
            }
            log.debug("Cancelled a request of {}: its client left text unread for more than {} ms",
                    submission.client, TimeUnit.NANOSECONDS.toMillis(slowClientTimeoutNanos));
        }
    }

    private GenerationResult generate(Submission submission) throws Exception {
        GenerationRequest request = submission.request;
        SequenceObservation observation = submission.observation;
        Generation generation = new Generation(request, model.tokenizer(), model.config().eosTokenIds(),
                model.config().contextLength(), observation);
        try (SequenceDecoders.PrefixedDecoder decoder = decoders.open(request.promptIds(), request.cacheSalt(),
                submission.client, observation)) {
            GenerationResult result = generation.run(decoder.decoder(), decoder.cachedTokens(),
                    submission.sink(decoder.decoder()::pause), submission::cancelled);
            decoder.storeFinished(request.promptIds(), result.tokenIds());
            return result;
        }
    }

    /**
     * Lets running sequences finish before their decoders and the model (beans this one depends on, so closed
     * after it) free the session their passes run in.
     */
    @PreDestroy
    void shutdown() throws InterruptedException {
        closing = true;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while ((admission.running() > 0 || admission.queued() > 0) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        workers.shutdown();
        if (!workers.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
            log.warn("Sequences still running 30 s into shutdown; the model is closed under them");
        }
        slowClientWatch.shutdownNow();
        writers.shutdown();
    }
}
