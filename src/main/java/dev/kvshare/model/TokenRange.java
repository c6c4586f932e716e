package dev.kvshare.model;

/** {@code length} tokens from token {@code from} of a sequence: the span of one block payload. */
public record TokenRange(int from, int length) {
}
