package dev.kvshare.generation;

import java.util.List;

import dev.kvshare.model.DecoderModel;
import dev.kvshare.model.KvArena;
import dev.kvshare.model.KvRow;
import dev.kvshare.model.Logits;
import dev.kvshare.model.LogitsRoom;
import dev.kvshare.model.NativeScope;

/**
 * The native state of a batch: the running rows' KV in one set of tensors ({@link KvArena}: rows join and
 * leave in place) and the logits buffers of the batched pass and of prefill passes ({@link LogitsRoom}: reused
 * as rows come and go), all in the batch's scope. Owned by the batch scheduler's thread alone, which closes
 * each tensor once nothing can use it; sequences only ever see float copies of their logits rows.
 */
final class NativeBatch implements AutoCloseable {

    private final DecoderModel model;
    private final NativeScope scope = new NativeScope();
    private final KvArena kv;
    /** The decode passes' logits and the prefill passes': each pass's rows are copied out before the next. */
    private final LogitsRoom logitsRoom;
    private final LogitsRoom prefillLogitsRoom;
    private Logits logits;

    NativeBatch(DecoderModel model, int maxRows) {
        this.model = model;
        this.logitsRoom = scope.track(model.newLogitsRoom(maxRows));
        this.prefillLogitsRoom = scope.track(model.newLogitsRoom(maxRows));
        prefillLogitsRoom.rows(1); // a lone prompt's, held from the start as an idle batch's only logits
        this.kv = scope.track(model.newArena(maxRows));
    }

    /** Where a prefill pass of {@code rows} prompts' last tokens writes their logits (valid until the next). */
    Logits prefillLogits(int rows) {
        return prefillLogitsRoom.rows(rows);
    }

    /** Row {@code r} of the current batch, for a repack to copy; valid until the next pass or change. */
    KvRow row(int r) {
        return kv.row(r);
    }

    /**
     * Drops rows {@code leaving} and adds {@code joining}; returns the rows' new order as
     * {@link KvArena#change} does.
     */
    int[] change(List<Integer> leaving, List<KvRow> joining) {
        int[] order = kv.change(leaving, joining);
        if (order.length > 0) {
            logits = logitsRoom.rows(order.length);
        } else {
            logitsRoom.close(); // no rows: the buffer goes too, as the arena's do
            logits = null;
        }
        return order;
    }

    /** Bytes of KV the last change copied. */
    long bytesCopied() {
        return kv.bytesCopied();
    }

    double paddingShare() {
        return kv.paddingShare();
    }

    /**
     * One batched decode pass: row {@code r} takes {@code tokens[r]}; its logits are copied into
     * {@code rowLogits.get(r)}. On failure the batch is unchanged.
     */
    void step(int[] tokens, List<float[]> rowLogits) {
        model.stepInPlace(tokens, kv, logits);
        for (int r = 0; r < tokens.length; r++) {
            logits.copyRow(r, rowLogits.get(r));
        }
    }

    @Override
    public void close() {
        scope.close();
    }
}
