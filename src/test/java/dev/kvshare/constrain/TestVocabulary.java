package dev.kvshare.constrain;

import java.nio.file.Path;
import java.util.Set;

import dev.kvshare.model.BundledModel;
import dev.kvshare.testsupport.TestModels;

/**
 * A test model's vocabulary as the model's logits see it, with the end-of-sequence token its grammars may end on.
 *
 * @param eos GPT-2's end-of-sequence id lies beyond the reference export's 1,000 logits: such a value cannot end
 *            on it, which the tests of values that must end take into account
 */
record TestVocabulary(TokenVocabulary vocabulary, int eos) {

    static TestVocabulary of(String model) {
        Path directory = model.equals(TestModels.BUNDLED) ? BundledModel.extract() : TestModels.reference(model);
        int logits = switch (model) {
            case TestModels.GPT2 -> 1000;
            case TestModels.LLAMA -> 32000;
            default -> 3072;
        };
        int eos = model.equals(TestModels.GPT2) ? 50256 : 2;
        return new TestVocabulary(TokenVocabulary.load(directory.resolve("tokenizer.json"), logits), eos);
    }

    /** Whether the end-of-sequence token is one of the model's logits. */
    boolean canEnd() {
        return eos < vocabulary.size();
    }

    TokenIndex index() {
        return TokenIndex.of(vocabulary, Set.of(eos));
    }
}
