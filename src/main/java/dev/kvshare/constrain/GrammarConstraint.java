package dev.kvshare.constrain;

import java.util.Arrays;

/**
 * One sequence's walk through a {@link Grammar}. A string value is closed once it holds
 * {@link Grammar#maxStringChars()} characters: a model that rarely writes a quote (an untrained one, or one
 * sampled hot) would otherwise fill {@code max_tokens} with a single string. The count stays outside the matcher
 * state so that masks inside strings stay shared.
 *
 * <p>The value always completes within the sequence's token limit: a token is allowed only if the tokens left
 * after it can still complete the value ({@link CompletionBudget}). Far from the limit that rules out nothing
 * but the rare token that opens more than the rest can close, which {@link #allows} turns down when it is
 * drawn; once the tokens left come down to what the value needs, the mask itself holds only tokens that close it.
 */
final class GrammarConstraint implements TokenConstraint {

    private final Grammar grammar;
    private MatchState state;
    private long[] allowed;
    private boolean complete;
    /** Tokens this sequence may still generate, the next one included. */
    private int left;
    /** {@link CompletionBudget#tokensToFinish} of the state the mask is for; -1 until needed. */
    private int needed = -1;
    private boolean cutShort;
    /** Characters (UTF-8 lead bytes and escapes counted once) of the string being written, its quote included. */
    private int stringChars;

    GrammarConstraint(Grammar grammar, MatchState start, int maxTokens) {
        this.grammar = grammar;
        this.state = start;
        this.left = maxTokens;
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
        if (token < 0 || token >>> 6 >= bits.length || (bits[token >>> 6] & (1L << token)) == 0) {
            return false;
        }
        if (needed() < left && !grammar.budget().fits(effectiveState(), token, left)) {
            cutShort = true; // a token that would open more than the tokens left can close
            return false;
        }
        return true;
    }

    @Override
    public void accept(int token) {
        left--;
        needed = -1;
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

    @Override
    public boolean cutShort() {
        return cutShort;
    }

    private long[] allowed() {
        if (allowed == null) {
            MatchState effective = effectiveState();
            if (needed() >= left && needed() != CompletionBudget.UNREACHABLE) {
                allowed = grammar.budget().within(effective, left); // only tokens that bring the end closer
                cutShort = true;
            }
            if (allowed == null || Arrays.stream(allowed).allMatch(word -> word == 0)) {
                allowed = grammar.allowed(effective); // no completion known to fit: the plain grammar
            }
        }
        return allowed;
    }

    /** The state tokens are read from: the matcher's, with a full string made to close. */
    private MatchState effectiveState() {
        boolean full = stringChars > grammar.maxStringChars() && state.betweenStringCharacters();
        return full ? state.closingString() : state;
    }

    private int needed() {
        if (needed < 0) {
            needed = grammar.budget().tokensToFinish(effectiveState());
        }
        return needed;
    }
}
