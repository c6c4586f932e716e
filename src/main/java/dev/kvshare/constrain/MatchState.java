package dev.kvshare.constrain;

import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Where the JSON matcher is after some bytes: the set of stacks still possible (more than one while an anyOf,
 * a number's end or a literal is undecided). Immutable, with value equality, so that masks can be cached per
 * state.
 */
final class MatchState {

    private final Stack[] alternatives;
    private final int hash;

    private MatchState(Stack[] alternatives) {
        this.alternatives = alternatives;
        this.hash = alternatives.length == 1 ? alternatives[0].hashCode() : Set.of(alternatives).hashCode();
    }

    /** Before the first byte of a value of {@code root}. */
    static MatchState start(SchemaNode root) {
        return new MatchState(new Stack[] {Stack.EMPTY.push(new Frame.Value(root))});
    }

    /** The state after byte {@code b}, or null if no value can continue with it. */
    MatchState step(int b) {
        if (alternatives.length == 1 && plainStringByte(b) && Frame.Str.PLAIN.equals(alternatives[0].top())) {
            return this; // most of a mask's trie walk is inside strings: no allocation there
        }
        Successors out = new Successors();
        for (Stack stack : alternatives) {
            if (!stack.isEmpty()) {
                stack.top().step(b, stack, out);
            }
        }
        if (out.isEmpty()) {
            return null;
        }
        if (alternatives.length == 1 && out.single() && out.first() == alternatives[0]) {
            return this;
        }
        return new MatchState(out.toArray());
    }

    /** Whether every alternative is inside a string, between characters (not in an escape or a UTF-8 sequence). */
    boolean betweenStringCharacters() {
        for (Stack stack : alternatives) {
            if (!Frame.Str.PLAIN.equals(stack.top())) {
                return false;
            }
        }
        return true;
    }

    /** Whether every alternative is inside a string. */
    boolean inString() {
        for (Stack stack : alternatives) {
            if (!(stack.top() instanceof Frame.Str)) {
                return false;
            }
        }
        return true;
    }

    /** This state with its string made to close at the next byte; call only {@link #betweenStringCharacters()}. */
    MatchState closingString() {
        Stack[] closing = new Stack[alternatives.length];
        for (int i = 0; i < closing.length; i++) {
            closing[i] = alternatives[i].rest().push(Frame.Str.CLOSING);
        }
        return new MatchState(closing);
    }

    private static boolean plainStringByte(int b) {
        return b >= 0x20 && b < 0x80 && b != '"' && b != '\\';
    }

    /** About the heap bytes this state holds: each stack's frames, a frame of a key or literal with its bit set. */
    long bytes() {
        long bytes = 32 + 16 + 8L * alternatives.length;
        for (Stack stack : alternatives) {
            bytes += 80L * stack.depth();
        }
        return bytes;
    }

    /** The stacks still possible. */
    List<Stack> stacks() {
        return List.of(alternatives);
    }

    /** How many stacks are still possible. */
    int alternatives() {
        return alternatives.length;
    }

    /** The value may end here. */
    boolean accepting() {
        for (Stack stack : alternatives) {
            if (stack.isEmpty()) {
                return true;
            }
        }
        return false;
    }

    /** The value has ended and nothing may follow. */
    boolean terminal() {
        return alternatives.length == 1 && alternatives[0].isEmpty();
    }

    @Override
    public boolean equals(Object other) {
        if (!(other instanceof MatchState state) || state.hash != hash
                || state.alternatives.length != alternatives.length) {
            return false;
        }
        return alternatives.length == 1 ? alternatives[0].equals(state.alternatives[0])
                : Set.of(alternatives).equals(Set.of(state.alternatives));
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public String toString() {
        return Arrays.toString(alternatives);
    }
}
