package dev.kvshare.generation;

import dev.kvshare.observability.SequenceObservation;
import dev.kvshare.observability.SequenceObservations;

/** Prefills prompts through the prompt cache without generating: the warm-up of the prefixes every request shares. */
public final class WarmupPrefill {

    /** Warm-up's share of the batch: a client of its own, so it never counts against a request's. */
    private static final String WARMUP_CLIENT = "warm-up";

    private final SequenceDecoders decoders;
    private final SequenceObservations observations;

    public WarmupPrefill(SequenceDecoders decoders, SequenceObservations observations) {
        this.decoders = decoders;
        this.observations = observations;
    }

    /** @return the prompt tokens that were already cached */
    public int prefill(int[] prompt, String salt) {
        try (SequenceObservation warmUp = observations.warmUp(prompt.length);
             SequenceDecoders.PrefixedDecoder decoder = decoders.open(prompt, salt, WARMUP_CLIENT, warmUp)) {
            decoder.decoder().start(prompt);
            return decoder.cachedTokens();
        }
    }
}
