package dev.kvshare.constrain;

import java.util.concurrent.atomic.AtomicLong;

import com.github.benmanes.caffeine.cache.Cache;

/**
 * A compiled JSON schema for one model's vocabulary: hands out a {@link TokenConstraint} per sequence. Masks
 * are computed per matcher state and cached (shared by every sequence of this grammar): in a long string or
 * a repeated structure the same states recur, and a cached mask costs one pass over the logits. The mask
 * cache knows a grammar by its number, not by reference, so that it never keeps an evicted grammar alive.
 */
public final class Grammar {

    private static final AtomicLong NUMBERS = new AtomicLong();

    private final long number = NUMBERS.incrementAndGet();
    private final SchemaNode root;
    private final TokenIndex index;
    private final Cache<MaskKey, long[]> masks;
    private final int maxStringChars;
    private final long footprint;
    private volatile boolean evicted;
    private final CompletionBudget budget;

    Grammar(SchemaNode root, TokenIndex index, Cache<MaskKey, long[]> masks, int maxStringChars) {
        this.root = root;
        this.index = index;
        this.masks = masks;
        this.maxStringChars = maxStringChars;
        this.footprint = SchemaFootprint.of(root);
        this.budget = new CompletionBudget(root, index);
    }

    /** The compiled schema: its nodes are what cached matcher states refer to. */
    SchemaNode root() {
        return root;
    }

    /** Which grammar a cached mask belongs to. */
    long number() {
        return number;
    }

    /** About the heap bytes the compiled schema holds, its masks not counted. */
    long footprint() {
        return footprint;
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
        if (evicted) {
            return mask(state);
        }
        MaskKey key = new MaskKey(number, state);
        long[] bits = masks.get(key, k -> mask(state));
        if (evicted) { // evicted meanwhile, perhaps after its masks were dropped
            masks.invalidate(key);
        }
        return bits;
    }

    /**
     * Once this grammar has left the cache of compiled grammars, the sequences still generating under it
     * compute their masks without caching them: a cached mask's state refers to this grammar's schema, which
     * would stay alive, unweighed, for as long as the mask.
     */
    void evicted() {
        evicted = true;
    }

    private long[] mask(MatchState state) {
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
    }

    /** A cached mask's key: the grammar's {@link #number()} and the matcher state. */
    record MaskKey(long grammar, MatchState state) {

        /** About the heap bytes a cached mask holds beside its bits. */
        long bytes() {
            return 32 + state.bytes();
        }
    }
}
