package dev.kvshare.constrain;

import java.util.Set;

/**
 * What a constraint needs to know of the model's vocabulary, built once per model.
 *
 * @param eosTokenIds allowed where the value may end, and end it
 */
public record TokenIndex(TokenVocabulary vocabulary, TokenTrie trie, Set<Integer> eosTokenIds) {

    public static TokenIndex of(TokenVocabulary vocabulary, Set<Integer> eosTokenIds) {
        return new TokenIndex(vocabulary, TokenTrie.of(vocabulary), Set.copyOf(eosTokenIds));
    }
}
