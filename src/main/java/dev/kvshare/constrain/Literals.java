package dev.kvshare.constrain;

import java.util.BitSet;
import java.util.List;

/** A fixed set of JSON texts, as bytes: enum and const values, {@code true}, {@code false}, {@code null}. */
final class Literals {

    static final Literals TRUE_FALSE = new Literals(List.of(bytes("true"), bytes("false")));
    static final Literals NULL = new Literals(List.of(bytes("null")));
    static final Literals TRUE_FALSE_NULL = new Literals(List.of(bytes("true"), bytes("false"), bytes("null")));

    private final byte[][] texts;
    private final BitSet all;

    Literals(List<byte[]> texts) {
        this.texts = texts.toArray(byte[][]::new);
        this.all = new BitSet();
        all.set(0, this.texts.length);
    }

    /** About the heap bytes these texts hold (see SchemaFootprint). */
    long bytes() {
        long bytes = 16 + 8L * texts.length + 40 + texts.length / 8;
        for (byte[] text : texts) {
            bytes += 16 + text.length;
        }
        return bytes;
    }

    void start(int b, Stack rest, Successors out) {
        advance(all, 0, b, rest, out);
    }

    /** Reads byte {@code b} at {@code position} of the literals in {@code alive}. */
    void advance(BitSet alive, int position, int b, Stack rest, Successors out) {
        BitSet next = new BitSet();
        for (int i = alive.nextSetBit(0); i >= 0; i = alive.nextSetBit(i + 1)) {
            if ((texts[i][position] & 0xFF) == b) {
                if (position + 1 == texts[i].length) {
                    out.add(rest); // one literal may be a prefix of another (1 and 12): both futures stay open
                } else {
                    next.set(i);
                }
            }
        }
        if (!next.isEmpty()) {
            out.add(rest.push(new Frame.Literal(this, next, position + 1)));
        }
    }

    /**
     * The shortest rest, from byte {@code position} on, of the literals in {@code alive} (null: all), the
     * lowest bytes of those as short.
     */
    byte[] shortestFrom(BitSet alive, int position) {
        BitSet from = alive == null ? all : alive;
        byte[] best = null;
        for (int i = from.nextSetBit(0); i >= 0; i = from.nextSetBit(i + 1)) {
            byte[] rest = java.util.Arrays.copyOfRange(texts[i], position, texts[i].length);
            if (ShortestCompletion.better(rest, best)) {
                best = rest;
            }
        }
        return best;
    }

    private static byte[] bytes(String ascii) {
        return ascii.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }
}
