package dev.kvshare.generation;

/**
 * A sequence's chosen tokens, one after another: the generating thread's own sampler over its decoder's
 * logits ({@link #sampling}), or a decoder that samples them itself ({@link SequenceDecoder#tokens}).
 */
interface TokenSource {

    /** Feeds the prompt and returns the first generated token. */
    int first(int[] promptIds);

    /** Feeds {@code token}, the last one returned, and returns the one after it. */
    int next(int token);

    /** Tokens chosen on the caller's thread by {@code sampler} from {@code decoder}'s logits. */
    static TokenSource sampling(SequenceDecoder decoder, Sampler sampler) {
        return new TokenSource() {
            @Override
            public int first(int[] promptIds) {
                return sampler.next(decoder.start(promptIds));
            }

            @Override
            public int next(int token) {
                return sampler.next(decoder.next(token));
            }
        };
    }
}
