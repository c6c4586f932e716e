package dev.kvshare.constrain;

import java.util.Set;

/**
 * What a constraint needs to know of the model's vocabulary, built once per model.
 *
 * @param trie          every token with bytes
 * @param stringSafe    one bit per token that, inside a string, leaves it open and unchanged (no quote, no
 *                      backslash, whole UTF-8 characters): allowed in every plain string state without a walk
 * @param stringOthers  the remaining tokens, the only ones a mask inside a string has to walk
 * @param eosTokenIds   allowed where the value may end, and end it
 */
public record TokenIndex(TokenVocabulary vocabulary, TokenTrie trie, long[] stringSafe, TokenTrie stringOthers,
                         Set<Integer> eosTokenIds) {

    public static TokenIndex of(TokenVocabulary vocabulary, Set<Integer> eosTokenIds) {
        MatchState inString = MatchState.start(new SchemaNode.StringNode()).step('"');
        long[] safe = new long[(vocabulary.size() + 63) / 64];
        for (int id = 0; id < vocabulary.size(); id++) {
            byte[] bytes = vocabulary.bytes(id);
            MatchState after = bytes == null || bytes.length == 0 ? null : inString;
            for (int i = 0; after != null && i < bytes.length; i++) {
                after = after.step(bytes[i] & 0xFF);
            }
            if (inString.equals(after)) {
                safe[id >>> 6] |= 1L << id;
            }
        }
        return new TokenIndex(vocabulary, TokenTrie.of(vocabulary), safe,
                TokenTrie.of(vocabulary, id -> (safe[id >>> 6] & (1L << id)) == 0), Set.copyOf(eosTokenIds));
    }
}
