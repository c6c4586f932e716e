package dev.kvshare.generation;

import java.util.List;

import dev.kvshare.model.BatchedKv;
import dev.kvshare.model.DecoderModel;
import dev.kvshare.model.KvRow;
import dev.kvshare.model.Logits;
import dev.kvshare.model.NativeScope;

/**
 * The native state of a batch: the running rows' KV in one set of tensors and the logits buffers of the
 * batched pass and of prefill passes, all in the batch's scope. Owned by the batch scheduler's thread alone,
 * which closes each tensor once nothing can use it; sequences only ever see float copies of their logits rows.
 */
final class NativeBatch implements AutoCloseable {

    private final DecoderModel model;
    private final NativeScope scope = new NativeScope();
    private Logits prefillLogits;
    private BatchedKv kv;
    private Logits logits;

    NativeBatch(DecoderModel model) {
        this.model = model;
        this.prefillLogits = scope.track(model.newLogits());
    }

    /** Where a prefill pass of {@code rows} prompts' last tokens writes their logits (one buffer, resized). */
    Logits prefillLogits(int rows) {
        if (prefillLogits.rows() != rows) {
            Logits sized = scope.track(model.newLogits(rows));
            scope.close(prefillLogits);
            prefillLogits = sized;
        }
        return prefillLogits;
    }

    /** Row {@code r} of the current batch, for a repack to copy. */
    KvRow row(int r) {
        return kv.row(r);
    }

    /** Replaces the batch with a new one made of {@code rows} (none: no batch). */
    void repack(List<KvRow> rows) {
        BatchedKv packed = rows.isEmpty() ? null : scope.track(model.pack(rows));
        closeBatch();
        kv = packed;
        if (packed != null) {
            logits = scope.track(model.newLogits(rows.size()));
        }
    }

    double paddingShare() {
        return kv.paddingShare();
    }

    /**
     * One batched decode pass: row {@code r} takes {@code tokens[r]}; its logits are copied into
     * {@code rowLogits.get(r)}. On failure the batch is unchanged.
     */
    void step(int[] tokens, List<float[]> rowLogits) {
        kv = scope.replace(kv, model.stepBatch(tokens, kv, logits));
        for (int r = 0; r < tokens.length; r++) {
            logits.copyRow(r, rowLogits.get(r));
        }
    }

    private void closeBatch() {
        if (kv != null) {
            scope.close(kv);
            kv = null;
        }
        if (logits != null) {
            scope.close(logits);
            logits = null;
        }
    }

    @Override
    public void close() {
        scope.close();
    }
}
