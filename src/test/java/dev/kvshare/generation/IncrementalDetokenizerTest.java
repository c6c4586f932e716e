package dev.kvshare.generation;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.stream.IntStream;

import dev.kvshare.model.ServedModel;
import dev.kvshare.model.Tokenizer;
import dev.kvshare.testsupport.TestModels;
import org.junit.jupiter.api.Test;

/** On the Llama tokenizer: SentencePiece spaces and multi-byte characters split over byte tokens. */
class IncrementalDetokenizerTest {

    @Test
    void deltasConcatenateToTheDecodedTextIncludingSpacesAndMultiByteCharacters() throws Exception {
        try (ServedModel model = TestModels.load(TestModels.LLAMA)) {
            Tokenizer tokenizer = model.tokenizer();
            int[] prompt = tokenizer.encode("Question:", true);
            String answer = " Your refund of 12€ is on its way 📦 — thanks, Zoë!";
            int[] generated = tokenizer.encode(answer, false);
            IncrementalDetokenizer detokenizer = new IncrementalDetokenizer(tokenizer, prompt);
            StringBuilder text = new StringBuilder();
            for (int id : generated) {
                String delta = detokenizer.add(id);
                assertThat(delta).doesNotContain("\uFFFD");
                text.append(delta);
            }
            text.append(detokenizer.finish());
            // The continuation of the prompt's text, as decoding the whole sequence at once gives it.
            int[] whole = IntStream.concat(Arrays.stream(prompt),
                    Arrays.stream(generated)).toArray();
            String promptText = tokenizer.decode(prompt, 0, prompt.length);
            assertThat(promptText + text).isEqualTo(tokenizer.decode(whole, 0, whole.length));
            assertThat(text.toString()).contains("12€", "📦", "Zoë");
        }
    }
}
