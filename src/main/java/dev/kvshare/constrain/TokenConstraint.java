package dev.kvshare.constrain;

/**
 * What one sequence may generate next, applied by that sequence's sampler to its own row of logits: the seam
 * between constrained decoding and the decode loop, which works the same for a batched pass (one row, one
 * constraint). Not thread-safe; one per sequence.
 */
public interface TokenConstraint {

    /** No constraint: every token may come next, and only the model ends the sequence. */
    TokenConstraint NONE = new TokenConstraint() {
        @Override
        public void mask(float[] logits) {
        }

        @Override
        public boolean allows(int token) {
            return true;
        }

        @Override
        public void accept(int token) {
        }

        @Override
        public boolean complete() {
            return false;
        }

        @Override
        public boolean cutShort() {
            return false;
        }
    };

    /** Sets the logit of every token that cannot come next to negative infinity. */
    void mask(float[] logits);

    /**
     * Whether {@code token} may come next. It may rule out a token the mask let through (one that is only
     * checked once drawn); the sampler then masks it and draws again.
     */
    boolean allows(int token);

    /** Advances past the chosen token. */
    void accept(int token);

    /** Whether the constrained value is complete: generation ends here, as at an end-of-sequence token. */
    boolean complete();

    /**
     * Whether the token limit shaped the value: its tokens ran down to what completing it takes, and tokens
     * that would have made it longer were ruled out. The value is still whole and valid.
     */
    boolean cutShort();
}
