package dev.kvshare.generation;

import java.util.Optional;
import java.util.function.ToIntFunction;

import dev.kvshare.model.DecoderModel;
import dev.kvshare.model.KvCache;
import dev.kvshare.model.ServedModel;
import dev.kvshare.observability.BatchMetrics;
import dev.kvshare.observability.SequenceObservation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens each sequence's decoder, starting after its prompt's cached prefix. With {@code max-batch-size} above 1
 * (and an export that batches) sequences take their passes from the {@link BatchScheduler}; otherwise each
 * runs its own passes through a {@link CachedDecoder}.
 */
public final class SequenceDecoders implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SequenceDecoders.class);

    private final DecoderModel model;
    private final CachedPrefixes cachedPrefixes;
    /** Null when sequences run their own passes. */
    private final BatchScheduler scheduler;
    /** What each client has queued for admission, once the generation service tells ({@link #queuedBy}). */
    private volatile ToIntFunction<String> queuedForAdmission = client -> 0;

    /** @param clientLimits how much one client's batch places may slow the others' passes */
    public SequenceDecoders(ServedModel model, GenerationProperties properties, ClientLimits clientLimits,
                            BatchMetrics batchMetrics, CachedPrefixes cachedPrefixes) {
        this.model = model.decoder();
        this.cachedPrefixes = cachedPrefixes;
        this.scheduler = batching(model, properties) ? new BatchScheduler(model.decoder(), properties.maxBatchSize(),
                properties.prefillTokensPerStep(), clientLimits.maxNeighbourSlowdown(),
                client -> queuedForAdmission.applyAsInt(client), batchMetrics) : null;
    }

    /**
     * How many requests each client has queued for admission: the batch weighs a client's extra places by
     * everything it asked for, not only what admission let through.
     */
    void queuedBy(ToIntFunction<String> queued) {
        this.queuedForAdmission = queued;
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

    /** Whether running sequences share batched passes. */
    public boolean batching() {
        return scheduler != null;
    }

    /** Why no decoder can run any more (the batch scheduler stopped on an error), if so. */
    public Optional<Throwable> failure() {
        return scheduler == null ? Optional.empty() : scheduler.failure();
    }

    /** A decoder for {@code prompt} that starts after the prompt's longest cached prefix under {@code salt}. */
    PrefixedDecoder open(int[] prompt, String salt, String client, SequenceObservation observation) {
        CachedPrefixes.CachedPrefix prefix = observation.in("kvshare.prompt_cache.lookup",
                () -> cachedPrefixes.lookup(prompt, salt, observation));
        try {
            return observation.in("kvshare.prompt_cache.restore", () -> decoderAfter(prefix, client));
        } catch (RuntimeException | Error e) {
            prefix.close();
            throw e;
        }
    }

    private PrefixedDecoder decoderAfter(CachedPrefixes.CachedPrefix prefix, String client) {
        KvCache past = prefix.restore().orElseGet(model::emptyCache);
        int cached = past.length();
        KvKeepingDecoder decoder = scheduler != null ? scheduler.sequence(past, prefix.prefillStore(), client)
                : new CachedDecoder(model, past, prefix.prefillStore());
        return new PrefixedDecoder(prefix, decoder, cached);
    }

    /** A decoder starting from a restored prefix, and how many prompt tokens that prefix covers. */
    record PrefixedDecoder(CachedPrefixes.CachedPrefix prefix, KvKeepingDecoder decoder, int cachedTokens)
            implements AutoCloseable {

        /** Keeps the finished sequence's KV in the prompt cache (see {@link CachedPrefixes.CachedPrefix#storeSequence}). */
        void storeFinished(int[] prompt, int[] generated) {
            prefix.storeSequence(decoder, prompt, generated);
        }

        @Override
        public void close() {
            try {
                decoder.close();
            } finally {
                prefix.close();
            }
        }
    }

    /** Stops the batch scheduler; the generation service has let running sequences finish first. */
    @Override
    public void close() throws InterruptedException {
        if (scheduler != null) {
            scheduler.close(5_000);
        }
    }
}
