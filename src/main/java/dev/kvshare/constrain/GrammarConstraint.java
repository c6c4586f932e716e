package dev.kvshare.constrain;

/**
 * One sequence's walk through a {@link Grammar}. A string value is closed once it holds
 * {@link Grammar#maxStringChars()} characters: a model that rarely writes a quote (an untrained one, or one
 * sampled hot) would otherwise fill {@code max_tokens} with a single string. The count stays outside the matcher
 * state so that masks inside strings stay shared.
 */
final class GrammarConstraint implements TokenConstraint {

    private final Grammar grammar;
    private MatchState state;
    private long[] allowed;
    private boolean complete;
    /** Characters (UTF-8 lead bytes and escapes counted once) of the string being written, its quote included. */
    private int stringChars;

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
            stringChars = !state.inString() ? 0 : state.betweenStringCharacters() ? stringChars + 1 : stringChars;
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
            boolean full = stringChars > grammar.maxStringChars() && state.betweenStringCharacters();
            allowed = grammar.allowed(full ? state.closingString() : state);
        }
        return allowed;
    }
}
