package dev.kvshare.promptcache;

/** Why {@link KvCodec#decode} refused a frame; a rejected frame is a cache miss (docs/prompt-cache.md). */
public enum RejectReason {
    /** Shorter than its header says it must be. */
    TRUNCATED,
    /** Longer than its header says it may be, or than any frame of this model: not even read from Redis. */
    OVERSIZE,
    /** Not a kvshare frame. */
    MAGIC,
    /** Another format version, or flags this version does not know. */
    VERSION,
    /** Written for another model (or model version). */
    FINGERPRINT,
    /** Another KV layout, dtype, layer count, KV heads, head dim or block length. */
    SHAPE,
    /** Accidental corruption: the CRC32C does not match. */
    CHECKSUM,
    /** An HMAC key is configured but the frame is unsigned. */
    HMAC_MISSING,
    /** The HMAC does not verify: written by someone without the key, or altered. */
    HMAC_MISMATCH,
    /** Encrypted under a key this replica does not hold (rotated out, or not yet rolled out). */
    UNKNOWN_KEY,
    /** The AES-GCM tag does not verify: altered, moved under another block's key, or forged. */
    DECRYPTION,
    /** The frame is for another block than the one looked up. */
    HASH,
    /** The frame's parent hash is not the expected previous block. */
    PARENT,
    /** The frame's token ids are not the prompt's. */
    TOKENS
}
