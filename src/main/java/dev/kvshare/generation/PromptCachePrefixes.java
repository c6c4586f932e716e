package dev.kvshare.generation;

import java.util.Arrays;
import java.util.Optional;

import dev.kvshare.model.KvBlocks;
import dev.kvshare.model.KvCache;
import dev.kvshare.model.NativeScope;
import dev.kvshare.observability.SequenceObservation;
import dev.kvshare.promptcache.PromptCache;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cached prefixes of the {@link PromptCache}: its local tier, and Redis where configured. The cache deals in
 * block payloads; the decoder's tensors become payloads and back here ({@link KvPayloads}).
 */
public final class PromptCachePrefixes implements CachedPrefixes {

    private static final Logger log = LoggerFactory.getLogger(PromptCachePrefixes.class);

    private final PromptCache cache;
    private final KvPayloads payloads;

    /** @param kvBlocks the served model's conversion between its KV tensors and block payloads */
    public PromptCachePrefixes(PromptCache cache, KvBlocks kvBlocks) {
        this.cache = cache;
        this.payloads = new KvPayloads(kvBlocks);
    }

    @Override
    public CachedPrefix lookup(int[] prompt, String salt, SequenceObservation observation) {
        try {
            return new Found(cache.lookup(prompt, salt), observation);
        } catch (RuntimeException e) {
            // The cache is an optimisation: whatever goes wrong there, the prompt is computed instead.
            log.warn("Prompt-cache lookup failed; computing the whole prompt", e);
            return CachedPrefix.NONE;
        }
    }

    private final class Found implements CachedPrefix {

        private final PromptCache.Lookup lookup;
        private final SequenceObservation observation;

        Found(PromptCache.Lookup lookup, SequenceObservation observation) {
            this.lookup = lookup;
            this.observation = observation;
        }

        @Override
        public Optional<KvCache> restore() {
            // The restored prefix is freed if the bookkeeping after it fails.
            try (NativeScope restoring = new NativeScope()) {
                Optional<KvCache> restored = payloads.restore(lookup.blocks()).map(restoring::track);
                observation.restored(lookup.localTokens(), lookup.redisTokens());
                return restored.map(restoring::detach);
            } catch (RuntimeException e) {
                log.warn("Could not restore cached KV; computing the whole prompt", e);
                return Optional.empty();
            }
        }

        /** The store runs in the request's observation (traced under its span), whichever thread calls it. */
        @Override
        public CachedDecoder.PrefillListener prefillStore() {
            CachedDecoder.PrefillListener store = (kv, computedTokens, nanos) -> {
                try {
                    cache.prefilled(computedTokens, nanos);
                    lookup.store(() -> payloads.held(kv));
                } catch (RuntimeException e) {
                    log.warn("Could not store the prompt's KV in the prompt cache", e);
                }
            };
            return (kv, computedTokens, nanos) -> observation.inSequence(() -> store.prefilled(kv, computedTokens, nanos));
        }

        /** The last generated token was sampled but never fed: its KV does not exist. */
        @Override
        public void storeSequence(KvKeepingDecoder decoder, int[] prompt, int[] generated) {
            if (generated.length == 0) {
                return;
            }
            int[] fed = Arrays.copyOf(prompt, prompt.length + generated.length - 1);
            System.arraycopy(generated, 0, fed, prompt.length, generated.length - 1);
            observation.inSequence(() -> {
                try {
                    decoder.readKv(kv -> lookup.storeSequence(payloads.of(kv, fed), fed));
                    payloads.prepareRestore(fed.length); // a repeat or the next turn restores up to all of it
                } catch (RuntimeException e) {
                    log.warn("Could not store the finished sequence's KV in the prompt cache", e);
                }
            });
        }

        @Override
        public void close() {
            lookup.close();
        }
    }
}
