package dev.kvshare.constrain;

import com.github.benmanes.caffeine.cache.Cache;

/**
 * A compiled JSON schema for one model's vocabulary: hands out a {@link TokenConstraint} per sequence. Masks
 * are computed per matcher state and cached (shared by every sequence of this grammar): in a long string or
 * a repeated structure the same states recur, and a cached mask costs one pass over the logits.
 */
public final class Grammar {

    private final SchemaNode root;
    private final TokenIndex index;
    private final Cache<MaskKey, long[]> masks;
    private final int maxStringChars;
    private final CompletionBudget budget;

    Grammar(SchemaNode root, TokenIndex index, Cache<MaskKey, long[]> masks, int maxStringChars) {
        this.root = root;
        this.index = index;
        this.masks = masks;
        this.maxStringChars = maxStringChars;
        this.budget = new CompletionBudget(root, index);
    }

    /** A string value closes once it holds this many characters. */
    int maxStringChars() {
        return maxStringChars;
    }

    /** A constraint with no token limit: values end when the model ends them. */
    public TokenConstraint newConstraint() {
        return newConstraint(Integer.MAX_VALUE);
    }

    /** A constraint for a sequence of at most {@code maxTokens} tokens, whose value always completes within them. */
    public TokenConstraint newConstraint(int maxTokens) {
        return new GrammarConstraint(this, MatchState.start(root), maxTokens);
    }

    /** The fewest tokens a value of this grammar takes (its shortest value, end-of-sequence token included). */
    public int minTokens() {
        return budget.tokensToFinish(MatchState.start(root));
    }

    CompletionBudget budget() {
        return budget;
    }

    TokenIndex index() {
        return index;
    }

    /** One bit per token id: the tokens that may follow {@code state}, end-of-sequence included where it may end. */
    long[] allowed(MatchState state) {
        return masks.get(new MaskKey(this, state), key -> {
            long[] bits;
            if (state.betweenStringCharacters()) { // most tokens just extend the string: only the rest is walked
                bits = index.stringOthers().allowed(state);
                for (int i = 0; i < bits.length; i++) {
                    bits[i] |= index.stringSafe()[i];
                }
            } else {
                bits = index.trie().allowed(state);
            }
            if (state.accepting()) {
                for (int eos : index.eosTokenIds()) {
                    if (eos < index.trie().vocabSize()) {
                        bits[eos >>> 6] |= 1L << eos;
                    }
                }
            }
            return bits;
        });
    }

    /** A cached mask's key; grammars compare by identity. */
    record MaskKey(Grammar grammar, MatchState state) {
    }
}
