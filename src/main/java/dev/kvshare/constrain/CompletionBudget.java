package dev.kvshare.constrain;

import java.util.HashMap;
import java.util.Map;

/**
 * How many tokens a value of one grammar still needs, so that a sequence with {@code max_tokens} left can be
 * kept to values it can finish. The count for a state is the fewest tokens that write its
 * {@link ShortestCompletion} (an end-of-sequence token added where that leaves a value that could go on): a
 * completion that exists, so never fewer tokens than the value needs. After the first token of that
 * completion's best tokenization the next state's completion is the rest of it, so the count drops by at least
 * one: with as many tokens left as the count, some token always keeps the value finishable.
 */
final class CompletionBudget {

    /** A state no tokens complete (a vocabulary lacking bytes, or a schema whose values are all infinite). */
    static final int UNREACHABLE = Integer.MAX_VALUE;

    private final ShortestCompletion completions;
    private final TokenIndex index;

    CompletionBudget(SchemaNode root, TokenIndex index) {
        this.completions = new ShortestCompletion(root);
        this.index = index;
    }

    /** The fewest tokens known to complete a value from {@code state}, its end-of-sequence token included. */
    int tokensToFinish(MatchState state) {
        byte[] completion = completions.of(state);
        if (completion == null) {
            return UNREACHABLE;
        }
        int tokens = index.trie().fewestTokens(completion);
        MatchState end = state;
        for (int i = 0; end != null && i < completion.length; i++) {
            end = end.step(completion[i] & 0xFF);
        }
        if (tokens < 0 || end == null || !end.accepting()) {
            return UNREACHABLE;
        }
        if (end.terminal()) {
            return tokens;
        }
        return index.eosTokenIds().stream().anyMatch(eos -> eos < index.trie().vocabSize()) ? tokens + 1
                : UNREACHABLE;
    }

    /**
     * The tokens after which a value can still be completed with {@code left - 1} more tokens, for the step
     * where {@code left} is no more than {@link #tokensToFinish} of {@code state} (so that tokens which leave it
     * unchanged are ruled out, the string-safe ones among them).
     */
    long[] within(MatchState state, int left) {
        Map<MatchState, Integer> known = new HashMap<>();
        TokenTrie walked = state.betweenStringCharacters() ? index.stringOthers() : index.trie(); // string-safe ones stay
        long[] bits = walked.allowed(state, after -> known.computeIfAbsent(after, this::tokensToFinish) <= left - 1);
        if (state.accepting()) {
            for (int eos : index.eosTokenIds()) {
                if (eos < index.trie().vocabSize()) {
                    bits[eos >>> 6] |= 1L << eos;
                }
            }
        }
        return bits;
    }

    /**
     * Whether, after {@code token} from {@code state}, a value can be completed with {@code left - 1} tokens;
     * for a state that itself fits in fewer than {@code left}, so that a token leaving it unchanged fits.
     */
    boolean fits(MatchState state, int token, int left) {
        if (index.eosTokenIds().contains(token)) {
            return true; // allowed by the mask only where the value may end: it ends it
        }
        byte[] bytes = index.vocabulary().bytes(token);
        MatchState after = state;
        for (int i = 0; after != null && i < bytes.length; i++) {
            after = after.step(bytes[i] & 0xFF);
        }
        return after == state || after != null && tokensToFinish(after) <= left - 1;
    }
}
