package dev.kvshare.constrain;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The bytes each token id stands for, read from the model's {@code tokenizer.json}: byte-level BPE
 * vocabularies (GPT-2, Llama 3, Qwen) map each character to a byte; SentencePiece ones write spaces as
 * {@code ▁} and fall back to {@code <0xNN>}. Added tokens (control markup) stand for no bytes: a constraint
 * never lets one through, except an end-of-sequence token where the value may end.
 */
public final class TokenVocabulary {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final byte[][] bytes;

    private TokenVocabulary(byte[][] bytes) {
        this.bytes = bytes;
    }

    /** A vocabulary given as each id's bytes (null for none): for a vocabulary that no tokenizer.json describes. */
    public static TokenVocabulary ofBytes(byte[][] bytes) {
        return new TokenVocabulary(bytes.clone());
    }

    /**
     * @param vocabSize the model's logits width, which may exceed the tokenizer's vocabulary (padding rows)
     */
    public static TokenVocabulary load(Path tokenizerJson, int vocabSize) {
        try {
            return of(JSON.readTree(tokenizerJson.toFile()), vocabSize);
        } catch (tools.jackson.core.JacksonException e) {
            throw new UncheckedIOException(new IOException("Cannot read " + tokenizerJson, e));
        }
    }

    static TokenVocabulary of(JsonNode tokenizer, int vocabSize) {
        Set<Integer> added = new HashSet<>();
        for (JsonNode token : tokenizer.path("added_tokens")) {
            added.add(token.path("id").asInt());
        }
        boolean byteLevel = tokenizer.path("decoder").toString().contains("\"ByteLevel\"");
        Map<Character, Integer> byteOf = byteLevel ? ByteLevelAlphabet.decoding() : Map.of();
        byte[][] bytes = new byte[vocabSize][];
        JsonNode vocab = tokenizer.path("model").path("vocab");
        if (vocab.isObject()) {
            for (Map.Entry<String, JsonNode> entry : vocab.properties()) {
                put(bytes, entry.getValue().asInt(), entry.getKey(), byteLevel, byteOf, added);
            }
        } else {
            int id = 0;
            for (JsonNode piece : vocab) { // Unigram: [piece, score]
                put(bytes, id++, piece.path(0).asString(""), byteLevel, byteOf, added);
            }
        }
        return new TokenVocabulary(bytes);
    }

    private static void put(byte[][] bytes, int id, String piece, boolean byteLevel, Map<Character, Integer> byteOf,
                            Set<Integer> added) {
        if (id < 0 || id >= bytes.length || added.contains(id) || piece.isEmpty()) {
            return;
        }
        bytes[id] = byteLevel ? ByteLevelAlphabet.decode(piece, byteOf) : sentencePiece(piece);
    }

    private static byte[] sentencePiece(String piece) {
        if (piece.length() == 6 && piece.startsWith("<0x") && piece.endsWith(">")) {
            try {
                return new byte[] {(byte) Integer.parseInt(piece.substring(3, 5), 16)};
            } catch (NumberFormatException notAByte) {
                // an ordinary piece that looks like one
            }
        }
        return piece.replace('\u2581', ' ').getBytes(StandardCharsets.UTF_8);
    }

    /** The bytes of token {@code id}; null for a token that stands for none (added, special, padding). */
    public byte[] bytes(int id) {
        return bytes[id];
    }

    public int size() {
        return bytes.length;
    }
}
