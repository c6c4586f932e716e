package dev.kvshare.generation;

import java.util.Optional;

import dev.kvshare.model.KvCache;
import dev.kvshare.observability.SequenceObservation;

/**
 * Generation's one way to the prompt cache: finds the longest cached prefix of a prompt and restores it as a
 * decoder's past, stores the prompt once prefilled and the sequence once finished. The cache is an
 * optimisation: one that fails reads as a miss, and a store that fails is logged, never the request's failure.
 */
public interface CachedPrefixes {

    /** No prompt cache: every prompt is computed whole and nothing is kept. */
    CachedPrefixes NONE = (prompt, salt, observation) -> CachedPrefix.NONE;

    /** The longest cached prefix of {@code prompt} under {@code salt}; restores and stores are part of {@code observation}. */
    CachedPrefix lookup(int[] prompt, String salt, SequenceObservation observation);

    /** One prompt's cached prefix, and the obligation to store what it lacked (or to release that on close). */
    interface CachedPrefix extends AutoCloseable {

        CachedPrefix NONE = new CachedPrefix() {
            @Override
            public Optional<KvCache> restore() {
                return Optional.empty();
            }

            @Override
            public CachedDecoder.PrefillListener prefillStore() {
                return CachedDecoder.PrefillListener.NONE;
            }

            @Override
            public void storeSequence(KvKeepingDecoder decoder, int[] prompt, int[] generated) {
            }

            @Override
            public void close() {
            }
        };

        /** The prefix's KV as a decoder's past (the caller owns it); empty when nothing is cached or restorable. */
        Optional<KvCache> restore();

        /** Stores the prompt's KV once its decoder has prefilled it. */
        CachedDecoder.PrefillListener prefillStore();

        /**
         * Keeps the KV {@code decoder} computed — the prompt and the {@code generated} reply — for the
         * conversation's next turn or a repeat, so that it is never prefilled twice. Call it from the sequence's
         * own thread once it finished.
         */
        void storeSequence(KvKeepingDecoder decoder, int[] prompt, int[] generated);

        @Override
        void close();
    }
}
