package dev.kvshare.generation;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
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
import java.util.function.BooleanSupplier;

import dev.kvshare.model.ChatTemplateException;
import dev.kvshare.model.ChatTurn;
import dev.kvshare.model.KvCache;
import dev.kvshare.model.PromptTooLongException;
import dev.kvshare.model.ServedModel;
import dev.kvshare.model.ToolCallFormat;
import dev.kvshare.observability.BatchMetrics;
import dev.kvshare.observability.GenerationMetrics;
import dev.kvshare.observability.SequenceObservation;
import dev.kvshare.observability.SequenceObservations;
import dev.kvshare.promptcache.PromptCache;
import jakarta.annotation.PreDestroy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;

/**
 * Orchestrates requests: builds prompts, checks them against the context, admits each sequence fairly
 * ({@link FairAdmission}: at most {@code max-concurrent} run and {@code max-queued} wait, each client within
 * its share; past that a request is refused at once, 429, rather than piling up memory) and runs it on a
 * thread of its own, its text handed to the client by a writer thread ({@link OutputBuffer}). With {@code max-batch-size} above 1 (and an
 * export that batches), running sequences take their passes from the {@link BatchScheduler}; otherwise each
 * runs its own passes through a {@link CachedDecoder}.
 */
@Service
public class GenerationService {

    private static final Logger log = LoggerFactory.getLogger(GenerationService.class);

    private final ServedModel model;
    private final GenerationProperties properties;
    private final GenerationMetrics metrics;
    private final SequenceObservations observations;
    private final Optional<PromptCache> promptCache;
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
    /** Null when sequences run their own passes. */
    private final BatchScheduler scheduler;

    public GenerationService(ServedModel model, GenerationProperties properties, ClientLimits clientLimits,
                             GenerationMetrics metrics, SequenceObservations observations, BatchMetrics batchMetrics,
                             Optional<PromptCache> promptCache) {
        this.model = model;
        this.properties = properties;
        this.metrics = metrics;
        this.observations = observations;
        this.promptCache = promptCache;
        this.scheduler = batching(model, properties) ? new BatchScheduler(model.decoder(),
                properties.maxBatchSize(), properties.prefillTokensPerStep(), batchMetrics) : null;
        this.admission = new FairAdmission<>(clientLimits.admissionLimits(properties));
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

    private static boolean batching(ServedModel model, GenerationProperties properties) {
        if (properties.maxBatchSize() == 1) {
            return false;
        }
        if (!model.decoder().batchesRowsOfDifferentLengths()) {
            log.info("kvshare.generation.max-batch-size is {}, but {} cannot batch sequences of different "
                    + "lengths: each sequence runs its own passes", properties.maxBatchSize(), model.name());
            return false;
        }
        return true;
    }

    public ServedModel model() {
        return model;
    }

    /** Whether running sequences share batched passes. */
    public boolean batching() {
        return scheduler != null;
    }

    /** Why this service can no longer generate (its batch scheduler stopped on an error), if so. */
    public Optional<Throwable> engineFailure() {
        return scheduler == null ? Optional.empty() : scheduler.failure();
    }

    /** Renders a conversation with the model's chat template, ending with the assistant's turn. */
    public int[] chatPrompt(List<ChatTurn> turns) {
        return chatPrompt(turns, null, ToolCallFormat.HERMES);
    }

    /** As {@link #chatPrompt(List)}, offering the model {@code tools} (null: none) that it calls in {@code format}. */
    public int[] chatPrompt(List<ChatTurn> turns, List<Map<String, Object>> tools, ToolCallFormat format) {
        try {
            return inVocabulary(model.chatPrompts().encode(turns, tools, format, model.config().contextLength()),
                    "messages");
        } catch (ChatTemplateException | PromptTooLongException e) {
            throw new InvalidRequestException(e.getMessage(), "messages");
        }
    }

    /** Tokenizes a plain prompt, with the special tokens (a BOS, say) the tokenizer adds. */
    public int[] textPrompt(String text) {
        return textPrompt(text, true);
    }

    /** Tokenizes a plain prompt, with or without the special tokens the tokenizer adds. */
    public int[] textPrompt(String text, boolean addSpecialTokens) {
        long minTokens = model.tokenizer().minTokens(text);
        if (minTokens > model.config().contextLength()) {
            throw new InvalidRequestException(new PromptTooLongException(minTokens, model.config().contextLength())
                    .getMessage(), "prompt");
        }
        return inVocabulary(model.tokenizer().encode(text, addSpecialTokens), "prompt");
    }

    /** Token ids sent by the client. */
    public int[] tokenPrompt(List<Integer> ids) {
        return tokenIds(ids, "prompt");
    }

    /** Token ids sent by the client in the request field {@code param}. */
    public int[] tokenIds(List<Integer> ids, String param) {
        if (ids.contains(null)) {
            throw new InvalidRequestException("Token ids must be integers", param);
        }
        return inVocabulary(ids.stream().mapToInt(Integer::intValue).toArray(), param);
    }

    /** Every id must index the model's embeddings; a tokenizer that does not match its model fails here too. */
    private int[] inVocabulary(int[] ids, String param) {
        int vocab = model.decoder().io().vocabSize();
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocab) {
                throw new InvalidRequestException("Token id " + ids[i] + " at prompt position " + i
                        + " is outside the model's vocabulary [0, " + vocab + ")", param);
            }
        }
        return ids;
    }

    /**
     * The number of tokens to generate: the request's {@code max_tokens}, or the configured default, within
     * the context that the prompt leaves.
     *
     * @param param       the request field that set {@code requested}
     * @param promptParam the request field that holds the prompt ({@code messages} or {@code prompt})
     */
    public int maxTokensFor(int[] prompt, Integer requested, String param, String promptParam) {
        int context = model.config().contextLength();
        if (prompt.length == 0) {
            throw new InvalidRequestException("The prompt is empty", promptParam);
        }
        if (prompt.length >= context) {
            throw new InvalidRequestException("This model's maximum context length is " + context
                    + " tokens. However, your prompt has " + prompt.length + " tokens.", promptParam);
        }
        if (requested == null) {
            return Math.min(properties.defaultMaxTokens(), context - prompt.length);
        }
        if (requested < 1) {
            throw new InvalidRequestException(param + " must be at least 1, not " + requested, param);
        }
        if (requested > context - prompt.length) { // not prompt + requested: that overflows for huge values
            throw new InvalidRequestException("This model's maximum context length is " + context
                    + " tokens. However, you requested " + ((long) prompt.length + requested) + " tokens ("
                    + prompt.length + " in the prompt, " + requested + " for the completion).", param);
        }
        return requested;
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
        Submission submission = new Submission(request, client, sink, writers, observation, this::slotFreed);
        FairAdmission.Outcome outcome = closing ? FairAdmission.Outcome.FULL : admission.offer(client, submission);
        switch (outcome) {
            case RUNNING -> start(submission);
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
                submission.generated(generate(submission.request, submission.sink(), submission::cancelled,
                        submission.observation));
            } catch (SlowClientException e) {
                cancelSlow(submission); // too many chunks wait for it
                submission.generated.cancel(false);
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

    private void slotFreed(Submission submission) {
        live.remove(submission);
        admission.release(submission.client).ifPresent(this::start);
    }

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
            log.debug("Cancelled a request of {}: its client left text unread for more than {} ms or let {} "
                    + "chunks pile up", submission.client, TimeUnit.NANOSECONDS.toMillis(slowClientTimeoutNanos),
                    Submission.MAX_PENDING_CHUNKS);
        }
    }

    private GenerationResult generate(GenerationRequest request, TokenSink sink, BooleanSupplier cancelled,
                                      SequenceObservation observation) throws Exception {
        Generation generation = new Generation(request, model.tokenizer(), model.config().eosTokenIds(),
                model.config().contextLength(), observation);
        try (PromptCache.Lookup lookup = observation.in("kvshare.prompt_cache.lookup",
                () -> lookup(request.promptIds(), request.cacheSalt()));
             PrefixedDecoder decoder = observation.in("kvshare.prompt_cache.restore",
                     () -> decoderAfter(lookup, observation))) {
            GenerationResult result = generation.run(decoder.decoder(), decoder.cachedTokens(), sink, cancelled);
            storeFinished(lookup, decoder.decoder(), request.promptIds(), result.tokenIds(), observation);
            return result;
        }
    }

    /**
     * Prefills {@code prompt} through the prompt cache without generating (warm-up).
     *
     * @return the prompt tokens that were already cached
     */
    public int prefill(int[] prompt, String salt) {
        try (SequenceObservation warmUp = observations.warmUp(prompt.length);
             PromptCache.Lookup lookup = lookup(prompt, salt);
             PrefixedDecoder decoder = decoderAfter(lookup, warmUp)) {
            decoder.decoder().start(prompt);
            return decoder.cachedTokens();
        }
    }

    /** The tokens two conversations sharing {@code system} have in common: its cacheable prefix. */
    public int[] systemPromptPrefix(String system) {
        try {
            return inVocabulary(model.chatPrompts().systemPrefix(system, model.config().contextLength()), "system");
        } catch (ChatTemplateException | PromptTooLongException e) {
            throw new InvalidRequestException(e.getMessage(), "system");
        }
    }

    /**
     * Keeps the KV a finished sequence computed — its prompt and its reply — for its next turn or a repeat, so
     * that a conversation is never prefilled twice. The last generated token was sampled but never fed.
     */
    private void storeFinished(PromptCache.Lookup lookup, KvKeepingDecoder decoder, int[] prompt, int[] generated,
                               SequenceObservation observation) {
        if (lookup == null || generated.length == 0) {
            return;
        }
        int[] fed = Arrays.copyOf(prompt, prompt.length + generated.length - 1);
        System.arraycopy(generated, 0, fed, prompt.length, generated.length - 1);
        observation.inSequence(() -> {
            try {
                decoder.readKv(kv -> lookup.storeSequence(kv, fed));
            } catch (RuntimeException e) {
                log.warn("Could not store the finished sequence's KV in the prompt cache", e);
            }
        });
    }

    /** A decoder starting from a restored prefix, and how many prompt tokens that prefix covers. */
    private record PrefixedDecoder(KvKeepingDecoder decoder, int cachedTokens) implements AutoCloseable {
        @Override
        public void close() {
            decoder.close();
        }
    }

    private PrefixedDecoder decoderAfter(PromptCache.Lookup lookup, SequenceObservation observation) {
        KvCache past = restore(lookup, observation);
        int cached = past.length();
        CachedDecoder.PrefillListener store = storeInto(lookup, observation);
        KvKeepingDecoder decoder = scheduler != null ? scheduler.sequence(past, store)
                : new CachedDecoder(model.decoder(), past, store);
        return new PrefixedDecoder(decoder, cached);
    }

    /** The cached prefix of the prompt; null without a prompt cache, or when looking failed. */
    private PromptCache.Lookup lookup(int[] prompt, String salt) {
        if (promptCache.isEmpty()) {
            return null;
        }
        try {
            return promptCache.get().lookup(prompt, salt);
        } catch (RuntimeException e) {
            // The cache is an optimisation: whatever goes wrong there, the prompt is computed instead.
            log.warn("Prompt-cache lookup failed; computing the whole prompt", e);
            return null;
        }
    }

    private KvCache restore(PromptCache.Lookup lookup, SequenceObservation observation) {
        if (lookup == null) {
            return model.decoder().emptyCache();
        }
        try {
            KvCache restored = lookup.restore().orElse(model.decoder().emptyCache());
            observation.restored(lookup.localTokens(), lookup.redisTokens());
            return restored;
        } catch (RuntimeException e) {
            log.warn("Could not restore cached KV; computing the whole prompt", e);
            return model.decoder().emptyCache();
        }
    }

    /** The store runs in the request's {@code observation} (traced under its span), whichever thread calls it. */
    private CachedDecoder.PrefillListener storeInto(PromptCache.Lookup lookup, SequenceObservation observation) {
        if (lookup == null) {
            return CachedDecoder.PrefillListener.NONE;
        }
        CachedDecoder.PrefillListener store = (cache, computedTokens, nanos) -> {
            try {
                promptCache.get().prefilled(computedTokens, nanos);
                lookup.store(cache);
            } catch (RuntimeException e) {
                log.warn("Could not store the prompt's KV in the prompt cache", e);
            }
        };
        return (cache, computedTokens, nanos) -> observation.inSequence(() -> store.prefilled(cache, computedTokens,
                nanos));
    }

    public int retryAfterSeconds() {
        return properties.retryAfterSeconds();
    }

    /**
     * Lets running sequences finish before the model (a bean this one depends on, so closed after it) frees
     * the session their passes run in.
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
        if (scheduler != null) {
            scheduler.close(5_000);
        }
    }
}
