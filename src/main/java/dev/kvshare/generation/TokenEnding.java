package dev.kvshare.generation;

import java.util.Set;

/**
 * When a sequence ends by its tokens alone: at an end-of-sequence token (unless the request ignores them), or
 * at its {@code limit}-th token. What its text adds (stop strings, a structured value made whole) is the
 * generating thread's to decide; this much whoever samples the tokens can tell.
 */
record TokenEnding(Set<Integer> eosTokenIds, boolean ignoreEos, int limit) {

    /** The token ends the sequence before its text: it is an end-of-sequence token that counts. */
    boolean endsWith(int token) {
        return !ignoreEos && eosTokenIds.contains(token);
    }

    /** The sequence ends with {@code token}, its {@code count}-th. */
    boolean endsAt(int token, int count) {
        return endsWith(token) || count >= limit;
    }
}
