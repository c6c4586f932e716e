package dev.kvshare.constrain;

/** One sequence's walk through a {@link Grammar}. */
final class GrammarConstraint implements TokenConstraint {

    private final Grammar grammar;
    private MatchState state;
    private long[] allowed;
    private boolean complete;

    GrammarConstraint(Grammar grammar, MatchState start) {
        this.grammar = grammar;
        this.state = start;
    }

    @Override
    public void mask(float[] logits) {
        long[] bits = allowed();
        for (int word = 0; word < bits.length; word++) {
            long set = bits[word];
            if (set == -1L) {
                continue;
            }
            int base = word << 6;
            int end = Math.min(base + 64, logits.length);
            for (int i = base; i < end; i++) {
                if ((set & (1L << i)) == 0) {
                    logits[i] = Float.NEGATIVE_INFINITY;
                }
            }
        }
    }

    @Override
    public boolean allows(int token) {
        long[] bits = allowed();
        return token >= 0 && token >>> 6 < bits.length && (bits[token >>> 6] & (1L << token)) != 0;
    }

    @Override
    public void accept(int token) {
        if (grammar.index().eosTokenIds().contains(token) && state.accepting()) {
            complete = true;
            return;
        }
        byte[] bytes = grammar.index().vocabulary().bytes(token);
        if (bytes == null) {
            throw new IllegalStateException("Token " + token + " cannot continue the constrained value");
        }
        for (byte b : bytes) {
            state = state.step(b & 0xFF);
            if (state == null) {
                throw new IllegalStateException("Token " + token + " cannot continue the constrained value");
            }
        }
        allowed = null;
        complete = state.terminal();
    }

    @Override
    public boolean complete() {
        return complete;
    }

    private long[] allowed() {
        if (allowed == null) {
            allowed = grammar.allowed(state);
        }
        return allowed;
    }
}
