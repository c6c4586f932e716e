package dev.kvshare.bench;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import dev.kvshare.constrain.TokenVocabulary;

/**
 * A deterministic stand-in for Qwen2.5's vocabulary (whose tokenizer is not in this repository): 151,643
 * distinct byte strings shaped like a byte-level BPE vocabulary — every single byte, words with and without a
 * leading space, digits, punctuation and code fragments, whitespace runs, and multi-byte UTF-8 (CJK, accented
 * Latin, Cyrillic) — then 293 ids without bytes (added tokens and padding), 151,936 rows in all.
 */
final class SyntheticVocabulary {

    static final int ROWS = 151_936;
    private static final int TOKENS = 151_643;
    private static final String LETTERS = "eeeeeeeeeeeettttttttaaaaaaaoooooooiiiiiiinnnnnnnsssssshhhhhhrrrrrrdddd"
            + "lllluuucccmmmwwffggyyppbbvkjxqz";
    private static final String PUNCTUATION = "{}[]():;,.\"'!?-_=+*/\\<>@#$%&|`~^";

    private SyntheticVocabulary() {
    }

    static TokenVocabulary qwenSized() {
        SplittableRandom random = new SplittableRandom(2_5);
        Set<String> tokens = new LinkedHashSet<>();
        List<byte[]> bytes = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            bytes.add(new byte[] {(byte) b});
        }
        while (bytes.size() < TOKENS) {
            String token = token(random);
            if (tokens.add(token)) {
                bytes.add(token.getBytes(StandardCharsets.UTF_8));
            }
        }
        byte[][] rows = new byte[ROWS][];
        for (int id = 0; id < bytes.size(); id++) {
            rows[id] = bytes.get(id);
        }
        return TokenVocabulary.ofBytes(rows);
    }

    private static String token(SplittableRandom random) {
        int kind = random.nextInt(100);
        if (kind < 50) {
            return " " + word(random, 2 + random.nextInt(9));
        }
        if (kind < 62) {
            String word = word(random, 1 + random.nextInt(8));
            return random.nextBoolean() ? Character.toUpperCase(word.charAt(0)) + word.substring(1) : word;
        }
        if (kind < 68) {
            return (random.nextBoolean() ? " " : "") + random.nextInt(1000);
        }
        if (kind < 80) {
            StringBuilder code = new StringBuilder(random.nextBoolean() ? " " : "");
            for (int i = 1 + random.nextInt(3); i > 0; i--) {
                code.append(PUNCTUATION.charAt(random.nextInt(PUNCTUATION.length())));
            }
            return code.append(random.nextInt(3) == 0 ? word(random, 1 + random.nextInt(5)) : "").toString();
        }
        if (kind < 84) {
            return random.nextBoolean() ? " ".repeat(1 + random.nextInt(16)) : "\n".repeat(1 + random.nextInt(3))
                    + " ".repeat(random.nextInt(8));
        }
        StringBuilder other = new StringBuilder();
        int[][] ranges = {{0x4E00, 0x9FFF}, {0x00C0, 0x00FF}, {0x0410, 0x044F}};
        int[] range = ranges[random.nextInt(ranges.length)];
        for (int i = 1 + random.nextInt(range[0] == 0x4E00 ? 2 : 6); i > 0; i--) {
            other.appendCodePoint(range[0] + random.nextInt(range[1] - range[0] + 1));
        }
        return other.toString();
    }

    private static String word(SplittableRandom random, int length) {
        StringBuilder word = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            word.append(LETTERS.charAt(random.nextInt(LETTERS.length())));
        }
        return word.toString();
    }
}
