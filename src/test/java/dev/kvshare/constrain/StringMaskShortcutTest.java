package dev.kvshare.constrain;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Set;

import com.github.benmanes.caffeine.cache.Caffeine;
import dev.kvshare.model.BundledModel;
import org.junit.jupiter.api.Test;

/** Inside a string the mask is the precomputed string-safe tokens plus a walk of the rest: the full walk's answer. */
class StringMaskShortcutTest {

    @Test
    void theShortcutMasksExactlyAsTheFullWalk() {
        TokenVocabulary vocabulary = TokenVocabulary.load(BundledModel.extract().resolve("tokenizer.json"), 3072);
        TokenIndex index = TokenIndex.of(vocabulary, Set.of(2));
        SchemaNode root = JsonSchemaCompiler.compile(SchemaGuarantee.schema("anyof"),
                ConstraintProperties.DEFAULTS.limits());
        Grammar grammar = new Grammar(root, index, Caffeine.newBuilder().maximumSize(0).build(), 1024);
        MatchState state = MatchState.start(root);
        int strings = 0;
        for (byte b : "{\"kind\":\"exchange\",\"sku\":\"caf\u00e9 \\n x\",\"reason\":\"\u00fc\"}"
                .getBytes(StandardCharsets.UTF_8)) {
            if (state.betweenStringCharacters()) {
                strings++;
                assertThat(grammar.allowed(state)).isEqualTo(index.trie().allowed(state));
            }
            state = state.step(b & 0xFF);
        }
        assertThat(strings).isGreaterThan(10);
    }
}
