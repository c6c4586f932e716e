package dev.kvshare.generation;

import dev.kvshare.observability.SequenceTrace;

/** Prefills prompts through the prompt cache without generating: the warm-up of the prefixes every request shares. */
public final class WarmupPrefill {

    /** Warm-up's share of the batch: a client of its own, so it never counts against a request's. */
    private static final String WARMUP_CLIENT = "warm-up";

    private final SequenceDecoders decoders;

    public WarmupPrefill(SequenceDecoders decoders) {
        this.decoders = decoders;
    }

    /** @return the prompt tokens that were already cached */
    public int prefill(int[] prompt, String salt) {
        try (SequenceDecoders.PrefixedDecoder decoder = decoders.open(prompt, salt, WARMUP_CLIENT,
                SequenceTrace.untraced())) {
            decoder.decoder().start(prompt);
            return decoder.cachedTokens();
        }
    }
}
