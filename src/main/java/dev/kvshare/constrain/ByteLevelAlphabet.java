package dev.kvshare.constrain;

import java.util.HashMap;
import java.util.Map;

/** GPT-2's byte-level alphabet: each byte written as a printable character (as {@code bytes_to_unicode}). */
final class ByteLevelAlphabet {

    private ByteLevelAlphabet() {
    }

    /** Character → byte. */
    static Map<Character, Integer> decoding() {
        Map<Character, Integer> byteOf = new HashMap<>();
        int shifted = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            byteOf.put((char) (printable ? b : 256 + shifted++), b);
        }
        return byteOf;
    }

    /** The bytes of a vocabulary entry; null if it has a character outside the alphabet. */
    static byte[] decode(String piece, Map<Character, Integer> byteOf) {
        byte[] bytes = new byte[piece.length()];
        for (int i = 0; i < bytes.length; i++) {
            Integer b = byteOf.get(piece.charAt(i));
            if (b == null) {
                return null;
            }
            bytes[i] = (byte) (int) b;
        }
        return bytes;
    }
}
