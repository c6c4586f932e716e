package dev.kvshare.model;

/** How an export names and shapes its past/present KV tensors. */
public enum KvLayout {
    /** {@code past_key_values.N.key|value -> present.N.key|value}, each {@code [batch, kv_heads, seq, head_dim]}. */
    SPLIT,
    /** {@code past_N -> present_N}, key and value stacked: {@code [2, batch, heads, seq, head_dim]} (GPT-2 exports). */
    STACKED
}
