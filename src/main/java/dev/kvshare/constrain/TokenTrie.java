package dev.kvshare.constrain;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The vocabulary's token byte strings as a trie, laid out flat in depth-first order, for computing a mask:
 * walk the trie and the matcher together, one matcher step per trie edge, and skip a whole subtree as soon
 * as its prefix is invalid. Shared tokens prefixes are stepped once, not once per token.
 */
public final class TokenTrie {

    private final int vocabSize;
    private final byte[] label;
    private final int[] depth;
    /** The node after this node's subtree: where the walk continues when the prefix is dead. */
    private final int[] subtreeEnd;
    /** Tokens ending at node i are {@code tokens[tokensFrom[i] .. tokensFrom[i + 1])}. */
    private final int[] tokensFrom;
    private final int[] tokens;
    private final int maxDepth;

    private TokenTrie(int vocabSize, byte[] label, int[] depth, int[] subtreeEnd, int[] tokensFrom, int[] tokens) {
        this.vocabSize = vocabSize;
        this.label = label;
        this.depth = depth;
        this.subtreeEnd = subtreeEnd;
        this.tokensFrom = tokensFrom;
        this.tokens = tokens;
        this.maxDepth = Arrays.stream(depth).max().orElse(0);
    }

    public static TokenTrie of(TokenVocabulary vocabulary) {
        return of(vocabulary, id -> true);
    }

    /** The trie of the tokens {@code include} accepts. */
    static TokenTrie of(TokenVocabulary vocabulary, java.util.function.IntPredicate include) {
        Integer[] ids = new Integer[vocabulary.size()];
        int count = 0;
        for (int id = 0; id < vocabulary.size(); id++) {
            if (vocabulary.bytes(id) != null && vocabulary.bytes(id).length > 0 && include.test(id)) {
                ids[count++] = id;
            }
        }
        Integer[] sorted = Arrays.copyOf(ids, count);
        Arrays.sort(sorted, (a, b) -> Arrays.compareUnsigned(vocabulary.bytes(a), vocabulary.bytes(b)));

        List<Byte> labels = new ArrayList<>();
        List<Integer> depths = new ArrayList<>();
        int[] tokenNode = new int[count];
        int[] path = new int[1];
        byte[] previous = new byte[0];
        for (int k = 0; k < count; k++) {
            byte[] bytes = vocabulary.bytes(sorted[k]);
            int mismatch = Arrays.mismatch(previous, bytes); // sorted: a prefix comes before what extends it
            int common = mismatch < 0 ? bytes.length : mismatch;
            if (path.length < bytes.length + 1) {
                path = Arrays.copyOf(path, bytes.length + 1);
            }
            for (int d = common; d < bytes.length; d++) {
                path[d + 1] = labels.size();
                labels.add(bytes[d]);
                depths.add(d + 1);
            }
            tokenNode[k] = path[bytes.length];
            previous = bytes;
        }
        int nodes = labels.size();
        byte[] label = new byte[nodes];
        int[] depth = new int[nodes];
        for (int i = 0; i < nodes; i++) {
            label[i] = labels.get(i);
            depth[i] = depths.get(i);
        }
        int[] subtreeEnd = new int[nodes];
        int[] open = new int[nodes + 1];
        int top = 0;
        for (int i = 0; i < nodes; i++) {
            while (top > 0 && depth[open[top - 1]] >= depth[i]) {
                subtreeEnd[open[--top]] = i;
            }
            open[top++] = i;
        }
        while (top > 0) {
            subtreeEnd[open[--top]] = nodes;
        }
        int[] tokensFrom = new int[nodes + 1];
        for (int node : tokenNode) {
            tokensFrom[node + 1]++;
        }
        for (int i = 0; i < nodes; i++) {
            tokensFrom[i + 1] += tokensFrom[i];
        }
        int[] tokens = new int[count];
        int[] fill = Arrays.copyOf(tokensFrom, nodes);
        for (int k = 0; k < count; k++) {
            tokens[fill[tokenNode[k]]++] = sorted[k];
        }
        return new TokenTrie(vocabulary.size(), label, depth, subtreeEnd, tokensFrom, tokens);
    }

    /** The tokens whose bytes, read from {@code state}, keep the value valid: one bit per token id. */
    long[] allowed(MatchState state) {
        long[] bits = new long[(vocabSize + 63) / 64];
        MatchState[] states = new MatchState[maxDepth + 1];
        states[0] = state;
        int i = 0;
        while (i < label.length) {
            MatchState next = states[depth[i] - 1].step(label[i] & 0xFF);
            if (next == null) {
                i = subtreeEnd[i];
                continue;
            }
            states[depth[i]] = next;
            for (int t = tokensFrom[i]; t < tokensFrom[i + 1]; t++) {
                bits[tokens[t] >>> 6] |= 1L << tokens[t];
            }
            i++;
        }
        return bits;
    }

    public int nodes() {
        return label.length;
    }

    public int vocabSize() {
        return vocabSize;
    }
}
