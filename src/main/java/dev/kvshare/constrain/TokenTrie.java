package dev.kvshare.constrain;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Predicate;

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
        return allowed(state, after -> true);
    }

    /** The tokens whose bytes, read from {@code state}, keep the value valid and lead to a state {@code keep} takes. */
    long[] allowed(MatchState state, Predicate<MatchState> keep) {
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
            if (tokensFrom[i] < tokensFrom[i + 1] && keep.test(next)) {
                for (int t = tokensFrom[i]; t < tokensFrom[i + 1]; t++) {
                    bits[tokens[t] >>> 6] |= 1L << tokens[t];
                }
            }
            i++;
        }
        return bits;
    }

    /** The fewest tokens whose bytes, one after another, are {@code bytes}; -1 when no tokens make them. */
    int fewestTokens(byte[] bytes) {
        int[] fewest = new int[bytes.length + 1]; // fewest[i]: tokens for bytes[i..]
        for (int from = bytes.length - 1; from >= 0; from--) {
            fewest[from] = -1;
            int node = child(-1, bytes[from]);
            for (int end = from + 1; node >= 0; end++) {
                if (tokensFrom[node] < tokensFrom[node + 1] && fewest[end] >= 0
                        && (fewest[from] < 0 || fewest[end] + 1 < fewest[from])) {
                    fewest[from] = fewest[end] + 1;
                }
                node = end < bytes.length ? child(node, bytes[end]) : -1;
            }
        }
        return fewest[0];
    }

    /** The child of {@code node} (-1: the root) labelled {@code b}; -1 when none. Siblings are in byte order. */
    private int child(int node, byte b) {
        int end = node < 0 ? label.length : subtreeEnd[node];
        int childDepth = node < 0 ? 1 : depth[node] + 1;
        for (int i = node + 1; i < end && depth[i] == childDepth; i = subtreeEnd[i]) {
            int compared = Integer.compare(label[i] & 0xFF, b & 0xFF);
            if (compared == 0) {
                return i;
            }
            if (compared > 0) {
                return -1;
            }
        }
        return -1;
    }

    public int nodes() {
        return label.length;
    }

    public int vocabSize() {
        return vocabSize;
    }
}
