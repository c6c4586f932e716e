package dev.kvshare.constrain;

/**
 * An immutable stack of what the JSON matcher still expects, innermost first. Value equality, so that equal
 * states share one cached token mask.
 *
 * @param depth how many frames; bounded by {@link #MAX_DEPTH}, which bounds the nesting of generated JSON
 */
record Stack(Frame top, Stack rest, int depth) {

    static final int MAX_DEPTH = 64;
    static final Stack EMPTY = new Stack(null, null, 0);

    boolean isEmpty() {
        return top == null;
    }

    /** This stack with {@code frame} on top; null past {@link #MAX_DEPTH}, which the matcher treats as a dead end. */
    Stack push(Frame frame) {
        return depth == MAX_DEPTH ? null : new Stack(frame, this, depth + 1);
    }

    /** This stack with {@code below} pushed, then {@code above}. */
    Stack push(Frame below, Frame above) {
        Stack pushed = push(below);
        return pushed == null ? null : pushed.push(above);
    }
}
