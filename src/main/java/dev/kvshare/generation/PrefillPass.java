package dev.kvshare.generation;

import java.util.ArrayList;
import java.util.List;

import dev.kvshare.model.DecoderModel;
import dev.kvshare.model.KvCache;
import dev.kvshare.model.Logits;

/**
 * One prefill pass of the batch scheduler: the next tokens of one admitted prompt, or of several in one model
 * call ({@link DecoderModel#extendRows}). Every row runs the same number of tokens, so only the rows' pasts are
 * padded (left, as in a decode pass), never the new tokens; and either every row runs prompt tokens before its
 * last, or every row its last token alone, whose logits choose its first generated token.
 *
 * @param rows         the sequences, in prefill order ({@link BatchPolicy#prefillOrder})
 * @param tokensPerRow the tokens each runs
 */
record PrefillPass(List<BatchedSequence> rows, int tokensPerRow) {

    /**
     * The next pass within {@code tokens} prompt tokens: the first sequence of {@code order} runs as many as it
     * may (the unbatched chunk), and the next ones of its kind (prompt tokens, or last token) that have at least
     * as many left join it while the pass stays within {@code tokens}. So the prefill order keeps its priority, and
     * prompts that fit beside the first (short ones, or last tokens) share its pass instead of running their own.
     */
    static PrefillPass plan(List<BatchedSequence> order, int tokens) {
        BatchedSequence first = order.get(0);
        boolean lastTokens = first.prefill.atLastToken();
        int perRow = first.prefill.nextLength(tokens);
        List<BatchedSequence> rows = new ArrayList<>(List.of(first));
        for (BatchedSequence next : order.subList(1, order.size())) {
            if ((rows.size() + 1) * perRow > tokens) {
                break;
            }
            if (next.prefill.atLastToken() == lastTokens && next.prefill.nextLength(perRow) == perRow) {
                rows.add(next);
            }
        }
        return new PrefillPass(List.copyOf(rows), perRow);
    }

    /** Whether the rows run their last prompt token: the pass writes one logits row each. */
    boolean lastTokens() {
        return rows.get(0).prefill.atLastToken();
    }

    int tokens() {
        return rows.size() * tokensPerRow;
    }

    /**
     * Runs the pass; when {@link #lastTokens}, row {@code r}'s logits go to row {@code r} of {@code logits}
     * (null otherwise). One row runs its own pass, as a sequence alone does.
     */
    void run(DecoderModel model, Logits logits) {
        if (rows.size() == 1) {
            rows.get(0).prefill.advance(tokensPerRow, logits);
            return;
        }
        long start = System.nanoTime();
        int[] ids = new int[tokens()];
        List<KvCache> pasts = new ArrayList<>(rows.size());
        for (int r = 0; r < rows.size(); r++) {
            PromptPrefill prefill = rows.get(r).prefill;
            System.arraycopy(prefill.nextTokens(tokensPerRow), 0, ids, r * tokensPerRow, tokensPerRow);
            pasts.add(prefill.cache());
        }
        List<KvCache> extended = model.extendRows(ids, pasts, logits);
        long nanos = System.nanoTime() - start;
        int handed = 0;
        try {
            for (; handed < rows.size(); handed++) {
                rows.get(handed).prefill.ran(tokensPerRow, extended.get(handed), nanos);
            }
        } finally {
            // A listener that threw leaves the caches not yet handed over to no one but this pass.
            extended.subList(Math.min(handed + 1, extended.size()), extended.size()).forEach(KvCache::close);
        }
    }
}
