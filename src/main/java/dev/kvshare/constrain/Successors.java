package dev.kvshare.constrain;

import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Collects the stacks a byte leads to (several where an anyOf, a number or a literal is still ambiguous). At
 * most {@link #MAX_ALTERNATIVES} are kept: every mask walks the vocabulary once per alternative, and a hostile
 * schema (hundreds of anyOf branches sharing a prefix) would otherwise make each step cost seconds. Dropping
 * the surplus keeps the output valid (each kept stack is a valid continuation); it only narrows what may come.
 */
final class Successors {

    static final int MAX_ALTERNATIVES = 64;

    private Stack first;
    private Set<Stack> more;

    void add(Stack stack) {
        if (stack == null || stack.equals(first)) {
            return;
        }
        if (first == null) {
            first = stack;
            return;
        }
        if (more == null) {
            more = new LinkedHashSet<>();
        }
        if (more.size() < MAX_ALTERNATIVES - 1) {
            more.add(stack);
        }
    }

    boolean isEmpty() {
        return first == null;
    }

    /** Exactly one stack. */
    boolean single() {
        return first != null && (more == null || more.isEmpty());
    }

    Stack first() {
        return first;
    }

    Stack[] toArray() {
        if (more == null) {
            return new Stack[] {first};
        }
        Stack[] all = new Stack[1 + more.size()];
        all[0] = first;
        int i = 1;
        for (Stack stack : more) {
            all[i++] = stack;
        }
        return all;
    }
}
