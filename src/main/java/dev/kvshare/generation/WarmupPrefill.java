package dev.kvshare.generation;

import dev.kvshare.observability.SequenceTrace;

/** Prefills prompts through the prompt cache without generating: the warm-up of the prefixes every request shares. */
public final class WarmupPrefill {

    private final SequenceDecoders decoders;

    public WarmupPrefill(SequenceDecoders decoders) {
        this.decoders = decoders;
    }

    /** @return the prompt tokens that were already cached */
    public int prefill(int[] prompt, String salt) {
        try (SequenceDecoders.PrefixedDecoder decoder = decoders.open(prompt, salt, SequenceTrace.untraced())) {
            decoder.decoder().start(prompt);
            return decoder.cachedTokens();
        }
    }
}
