package dev.kvshare.model;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The texts of a tokenizer's added tokens ({@code <|im_start|>}, {@code </s>}, ...): the tokenizer turns each
 * whole occurrence of one into its id, whatever surrounds it.
 */
public final class AddedTokens {

    private final List<String> texts;
    /** The texts by their first character, longest first, so that a token containing another wins. */
    private final Map<Character, List<String>> byFirstChar;

    public AddedTokens(List<String> texts) {
        // One-character tokens cannot be cut inside; encoding them whole is what the tokenizer does anyway.
        this.texts = texts.stream().filter(t -> t.length() > 1).distinct()
                .sorted(Comparator.comparingInt(String::length).reversed()).toList();
        this.byFirstChar = this.texts.stream().collect(Collectors.groupingBy(t -> t.charAt(0)));
    }

    /** The length of the added token written at {@code at} in {@code text}, or 0 when none starts there. */
    public int lengthAt(String text, int at) {
        for (String token : byFirstChar.getOrDefault(text.charAt(at), List.of())) {
            if (text.startsWith(token, at)) {
                return token.length();
            }
        }
        return 0;
    }

    /** Whether {@code text} holds a whole added token anywhere. */
    public boolean occurIn(String text) {
        for (String token : texts) {
            if (text.contains(token)) {
                return true;
            }
        }
        return false;
    }

    /**
     * {@code text} cut right after the first character of every added token written in it, so that no piece
     * holds a whole one; {@code [text]} when it holds none. Joined, the pieces are {@code text} again.
     */
    public List<String> splitInside(String text) {
        TreeSet<Integer> cuts = new TreeSet<>();
        for (String token : texts) {
            for (int at = text.indexOf(token); at >= 0; at = text.indexOf(token, at + 1)) {
                // Inside the token, and never between the halves of a surrogate pair.
                cuts.add(at + Character.charCount(text.codePointAt(at)));
            }
        }
        if (cuts.isEmpty()) {
            return List.of(text);
        }
        List<String> pieces = new ArrayList<>(cuts.size() + 1);
        int from = 0;
        for (int cut : cuts) {
            pieces.add(text.substring(from, cut));
            from = cut;
        }
        pieces.add(text.substring(from));
        return pieces;
    }
}
