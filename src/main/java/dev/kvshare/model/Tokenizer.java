package dev.kvshare.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.OptionalInt;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

/** A model's Hugging Face {@code tokenizer.json}, run by the Rust tokenizers library through DJL. */
public final class Tokenizer implements AutoCloseable {

    static {
        // DJL would download a CUDA build of the native library on a GPU machine; the bundled CPU one is
        // what tokenization needs, and nothing may be downloaded at run time.
        if (System.getenv("RUST_FLAVOR") == null && System.getProperty("RUST_FLAVOR") == null) {
            System.setProperty("RUST_FLAVOR", "cpu");
        }
    }

    private final HuggingFaceTokenizer tokenizer;

    private Tokenizer(HuggingFaceTokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    public static Tokenizer load(Path tokenizerJson) {
        try {
            // No truncation or padding: the service checks the context length itself and says so.
            return new Tokenizer(HuggingFaceTokenizer.newInstance(tokenizerJson,
                    Map.of("truncation", "false", "padding", "false", "addSpecialTokens", "false")));
        } catch (IOException | RuntimeException e) {
            throw new UnsupportedModelException("Cannot load tokenizer " + tokenizerJson + ": " + e.getMessage(), e);
        }
    }

    /**
     * Token ids of {@code text}.
     *
     * @param addSpecialTokens whether the tokenizer's post-processor adds its tokens (a BOS, say); text
     *                         rendered by a chat template already contains them
     */
    public int[] encode(String text, boolean addSpecialTokens) {
        long[] ids = tokenizer.encode(text, addSpecialTokens, false).getIds();
        int[] result = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            result[i] = Math.toIntExact(ids[i]);
        }
        return result;
    }

    /** Text of {@code ids}, special tokens left out. */
    public String decode(int[] ids, int from, int to) {
        long[] slice = new long[to - from];
        for (int i = from; i < to; i++) {
            slice[i - from] = ids[i];
        }
        return tokenizer.decode(slice, true);
    }

    /** The id of a token given by its text, when it is a single token (e.g. {@code "</s>"}). */
    public OptionalInt tokenId(String token) {
        if (token == null || token.isEmpty()) {
            return OptionalInt.empty();
        }
        int[] ids = encode(token, false);
        return ids.length == 1 ? OptionalInt.of(ids[0]) : OptionalInt.empty();
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
