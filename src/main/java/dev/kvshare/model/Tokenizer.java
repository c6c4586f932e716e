package dev.kvshare.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** A model's Hugging Face {@code tokenizer.json}, run by the Rust tokenizers library through DJL. */
public final class Tokenizer implements AutoCloseable {

    static {
        // DJL would download a CUDA build of the native library on a GPU machine; the bundled CPU one is
        // what tokenization needs, and nothing may be downloaded at run time.
        if (System.getenv("RUST_FLAVOR") == null && System.getProperty("RUST_FLAVOR") == null) {
            System.setProperty("RUST_FLAVOR", "cpu");
        }
    }

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final HuggingFaceTokenizer tokenizer;
    private final AddedTokens addedTokens;
    private final int maxTokenChars;

    private Tokenizer(HuggingFaceTokenizer tokenizer, AddedTokens addedTokens, int maxTokenChars) {
        this.tokenizer = tokenizer;
        this.addedTokens = addedTokens;
        this.maxTokenChars = maxTokenChars;
    }

    public static Tokenizer load(Path tokenizerJson) {
        try {
            // No truncation or padding: the service checks the context length itself and says so.
            JsonNode json = JSON.readTree(tokenizerJson.toFile());
            List<String> added = addedTokenTexts(json);
            return new Tokenizer(HuggingFaceTokenizer.newInstance(tokenizerJson,
                    Map.of("truncation", "false", "padding", "false", "addSpecialTokens", "false")),
                    new AddedTokens(added), maxTokenChars(json.path("model").path("vocab"), added));
        } catch (IOException | RuntimeException e) {
            throw new UnsupportedModelException("Cannot load tokenizer " + tokenizerJson + ": " + e.getMessage(), e);
        }
    }

    /** The tokenizer's added tokens ({@code <|im_end|>}, {@code </s>}, ...), which encoding matches as wholes. */
    public AddedTokens addedTokens() {
        return addedTokens;
    }

    /**
     * Token ids of {@code text}, in which added tokens written out ({@code <|im_end|>}) become their ids: for
     * markup that the service itself wrote, such as a rendered chat template's.
     *
     * @param addSpecialTokens whether the tokenizer's post-processor adds its tokens (a BOS, say); text
     *                         rendered by a chat template already contains them
     */
    public int[] encode(String text, boolean addSpecialTokens) {
        return ids(tokenizer.encode(text, addSpecialTokens, false).getIds());
    }

    /**
     * Token ids of {@code text} read as plain text: an added token written out in it is encoded like any other
     * characters and never becomes its control id. For text that came from a request, so that nobody can, say,
     * end their turn and open a system turn by typing the markup. The text is cut inside every such occurrence
     * and the pieces encoded one by one, because the tokenizer library offers no switch for it.
     */
    public int[] encodeLiteral(String text) {
        List<String> pieces = addedTokens.splitInside(text);
        if (pieces.size() == 1) {
            return encode(text, false);
        }
        int[][] encoded = new int[pieces.size()][];
        int total = 0;
        for (int i = 0; i < encoded.length; i++) {
            encoded[i] = encode(pieces.get(i), false);
            total += encoded[i].length;
        }
        int[] all = new int[total];
        int at = 0;
        for (int[] ids : encoded) {
            System.arraycopy(ids, 0, all, at, ids.length);
            at += ids.length;
        }
        return all;
    }

    private static int[] ids(long[] ids) {
        int[] result = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            result[i] = Math.toIntExact(ids[i]);
        }
        return result;
    }

    /**
     * A lower bound on the tokens of {@code text}: no token covers more characters than the longest entry of
     * the vocabulary is written with. Lets the service refuse a prompt that cannot fit the context without
     * tokenizing megabytes first.
     */
    public long minTokens(String text) {
        return (text.length() + maxTokenChars - 1) / maxTokenChars;
    }

    /**
     * The longest vocabulary entry in characters. Vocabularies write an entry with at least as many characters
     * as the text it covers (byte-level BPE one per byte, SentencePiece {@code ▁} per space, byte fallbacks as
     * {@code <0x0A>}).
     */
    private static int maxTokenChars(JsonNode vocab, List<String> added) {
        int longest = added.stream().mapToInt(String::length).max().orElse(1);
        if (vocab.isObject()) {
            for (String entry : vocab.propertyNames()) {
                longest = Math.max(longest, entry.length());
            }
        } else {
            for (JsonNode entry : vocab) { // Unigram: [piece, score]
                longest = Math.max(longest, entry.path(0).asString("").length());
            }
        }
        return Math.max(1, longest);
    }

    private static List<String> addedTokenTexts(JsonNode tokenizerJson) {
        List<String> texts = new ArrayList<>();
        for (JsonNode token : tokenizerJson.path("added_tokens")) {
            String content = token.path("content").asString("");
            if (!content.isEmpty()) {
                texts.add(content);
            }
        }
        return texts;
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
