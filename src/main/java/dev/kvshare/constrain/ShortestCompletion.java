package dev.kvshare.constrain;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The shortest bytes that complete a value of one grammar from a matcher state, the lexicographically smallest
 * of them where several are as short. That choice makes completions consistent: after the first bytes of the
 * completion of a state, the completion of the new state is the rest of it, which is what lets a token budget
 * follow it (see {@link CompletionBudget}).
 *
 * <p>Each frame only pushes onto or pops to the stack below it, so a stack's completion is the completion of
 * each frame (the bytes that pop it), top to bottom. A frame's completion needs the shortest value of schema
 * nodes; those are found once, as a fixpoint over the schema's nodes ($ref recursion: a value that only an
 * infinite one could complete has none). Thread-safe: a grammar's sequences share it.
 */
final class ShortestCompletion {

    private static final byte[] QUOTE = {'"'};
    private static final byte[] ZERO = {'0'};

    /** The shortest value of each node reachable from the root; absent where there is none. */
    private final Map<SchemaNode, byte[]> values;
    private final Map<Frame, Known> frames = new ConcurrentHashMap<>();

    /** A cached frame completion; {@code bytes} null when the frame cannot be completed. */
    private record Known(byte[] bytes) {
    }

    ShortestCompletion(SchemaNode root) {
        this.values = shortestValues(root);
    }

    /** The completion of {@code state}, empty where it may end now; null when no value can complete it. */
    byte[] of(MatchState state) {
        byte[] best = null;
        for (Stack stack : state.stacks()) {
            byte[] completion = of(stack);
            if (completion != null && better(completion, best)) {
                best = completion;
            }
        }
        return best;
    }

    /** The shortest value of {@code node}; null when it has none. */
    byte[] value(SchemaNode node) {
        return values.get(node);
    }

    private byte[] of(Stack stack) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Stack s = stack; !s.isEmpty(); s = s.rest()) {
            byte[] frame = frame(s.top());
            if (frame == null) {
                return null;
            }
            out.writeBytes(frame);
        }
        return out.toByteArray();
    }

    /** The bytes that pop {@code frame}: complete what it reads and everything it pushes. */
    private byte[] frame(Frame frame) {
        Known cached = frames.get(frame);
        if (cached == null) {
            cached = new Known(complete(frame));
            frames.put(frame, cached); // computing twice in a race gives the same bytes
        }
        return cached.bytes();
    }

    private byte[] complete(Frame frame) {
        if (frame instanceof Frame.Value value) {
            return value(value.node(), values); // a free-form value's node is made as it is read: not in values
        } else if (frame instanceof Frame.Expect expect) {
            return new byte[] {(byte) expect.expected()};
        } else if (frame instanceof Frame.Str str) {
            return string(str);
        } else if (frame instanceof Frame.Num num) {
            return number(num);
        } else if (frame instanceof Frame.Literal literal) {
            return literal.literals().shortestFrom(literal.alive(), literal.position());
        } else if (frame instanceof Frame.Key key) {
            return key(key);
        } else if (frame instanceof Frame.Obj obj) {
            return new ObjectCompletion(obj.object(), values).from(obj.next(), obj.phase());
        } else if (frame instanceof Frame.Arr arr) {
            return array(arr.array(), arr.count(), arr.phase() == Frame.Arr.OPEN, values);
        } else if (frame instanceof Frame.AnyObj any) {
            return any.phase() == Frame.Obj.AFTER_COMMA ? bytes("\"\":0}") : bytes("}");
        }
        return bytes("]"); // Frame.AnyArr: a free-form array may close after any item
    }

    private static byte[] string(Frame.Str str) {
        if (str.continuations() > 0) { // the rest of a UTF-8 character, its lowest bytes, then the quote
            byte[] bytes = new byte[str.continuations() + 1];
            Arrays.fill(bytes, (byte) 0x80);
            bytes[0] = (byte) str.low();
            bytes[bytes.length - 1] = '"';
            return bytes;
        }
        return str.equals(Frame.Str.PLAIN) || str.equals(Frame.Str.CLOSING) ? QUOTE : bytes("\"\""); // \" then "
    }

    /** A number on the stack may still grow; the bytes that reach a phase where it ends. */
    private static byte[] number(Frame.Num num) {
        if (num.phase() == Frame.Num.ZERO) {
            return bytes(".0");
        } else if (num.phase() == Frame.Num.INT) {
            return num.digits() < Frame.Num.MAX_INT_DIGITS ? ZERO : bytes(".0");
        } else if (num.phase() == Frame.Num.FRACTION) {
            return num.digits() < Frame.Num.MAX_FRACTION_DIGITS ? ZERO : bytes("E0");
        }
        return ZERO; // after a minus, a dot, an E or its sign, or inside an exponent that may grow
    }

    private byte[] key(Frame.Key key) {
        ObjectCompletion object = new ObjectCompletion(key.object(), values);
        byte[] best = null;
        for (int i = key.alive().nextSetBit(0); i >= 0; i = key.alive().nextSetBit(i + 1)) {
            byte[] property = object.property(i, key.position());
            if (property != null && better(property, best)) {
                best = property;
            }
        }
        return best;
    }

    /** The shortest value of every node, as a fixpoint: each round builds on the last until nothing improves. */
    private static Map<SchemaNode, byte[]> shortestValues(SchemaNode root) {
        List<SchemaNode> nodes = new ArrayList<>(reachable(root));
        Map<SchemaNode, byte[]> values = new HashMap<>();
        boolean improved = true;
        while (improved) {
            improved = false;
            for (SchemaNode node : nodes) {
                byte[] value = value(node, values);
                if (value != null && better(value, values.get(node))) {
                    values.put(node, value);
                    improved = true;
                }
            }
        }
        return Map.copyOf(values);
    }

    /** Every node under {@code root}, children before parents, so that a round mostly sees final children. */
    private static Set<SchemaNode> reachable(SchemaNode root) {
        Set<SchemaNode> seen = new LinkedHashSet<>();
        Set<SchemaNode> visiting = new HashSet<>();
        visit(root, visiting, seen);
        return seen;
    }

    private static void visit(SchemaNode node, Set<SchemaNode> visiting, Set<SchemaNode> seen) {
        if (seen.contains(node) || !visiting.add(node)) {
            return;
        }
        for (SchemaNode child : children(node)) {
            visit(child, visiting, seen);
        }
        seen.add(node);
    }

    private static List<SchemaNode> children(SchemaNode node) {
        if (node instanceof SchemaNode.AnyOfNode anyOf) {
            return anyOf.alternatives();
        } else if (node instanceof SchemaNode.ArrayNode array) {
            return List.of(array.items());
        } else if (node instanceof SchemaNode.RefNode ref) {
            return List.of(ref.definitions().get(ref.ref()));
        } else if (node instanceof SchemaNode.ObjectNode object) {
            return object.properties();
        }
        return List.of();
    }

    /** The shortest value of {@code node} given the shortest values known so far of other nodes. */
    private static byte[] value(SchemaNode node, Map<SchemaNode, byte[]> values) {
        if (node instanceof SchemaNode.AnyObjectNode) {
            return bytes("{}");
        } else if (node instanceof SchemaNode.StringNode) {
            return bytes("\"\"");
        } else if (node instanceof SchemaNode.LiteralsNode literals) {
            return literals.literals().shortestFrom(null, 0);
        } else if (node instanceof SchemaNode.AnyOfNode anyOf) {
            byte[] best = null;
            for (SchemaNode alternative : anyOf.alternatives()) {
                byte[] value = values.get(alternative);
                if (value != null && better(value, best)) {
                    best = value;
                }
            }
            return best;
        } else if (node instanceof SchemaNode.RefNode ref) {
            return values.get(ref.definitions().get(ref.ref()));
        } else if (node instanceof SchemaNode.ArrayNode array) {
            return concat(bytes("["), array(array, 0, true, values));
        } else if (node instanceof SchemaNode.ObjectNode object) {
            return concat(bytes("{"), new ObjectCompletion(object, values).from(0, Frame.Obj.OPEN));
        }
        return ZERO; // any value, or a number
    }

    /** The rest of an array that holds {@code count} items: the items it still lacks, then the bracket. */
    private static byte[] array(SchemaNode.ArrayNode array, int count, boolean open, Map<SchemaNode, byte[]> values) {
        int missing = Math.max(0, array.minItems() - count);
        if (missing == 0) {
            return bytes("]");
        }
        byte[] item = values.get(array.items());
        if (item == null) {
            return null;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < missing; i++) {
            if (i > 0 || !open) {
                out.write(',');
            }
            out.writeBytes(item);
        }
        out.write(']');
        return out.toByteArray();
    }

    /** The rest of a declared object from a point between its properties, memoized for one computation. */
    private static final class ObjectCompletion {

        private final SchemaNode.ObjectNode object;
        private final Map<SchemaNode, byte[]> values;
        private final Map<Long, Known> memo = new HashMap<>();

        ObjectCompletion(SchemaNode.ObjectNode object, Map<SchemaNode, byte[]> values) {
            this.object = object;
            this.values = values;
        }

        /** From property {@code next} on, in {@code phase}: close it, or write what is still required. */
        byte[] from(int next, int phase) {
            long key = (long) next << 2 | phase;
            Known known = memo.get(key);
            if (known != null) {
                return known.bytes();
            }
            byte[] best = null;
            if (phase != Frame.Obj.AFTER_COMMA && !object.requiredFrom(next)) {
                best = bytes("}");
            }
            BitSet candidates = object.candidates(next);
            if (phase == Frame.Obj.AFTER_VALUE && !candidates.isEmpty()) {
                best = pick(best, concat(bytes(","), from(next, Frame.Obj.AFTER_COMMA)));
            } else if (phase == Frame.Obj.OPEN) {
                best = pick(best, from(next, Frame.Obj.AFTER_COMMA));
            } else if (!candidates.isEmpty()) {
                // the best of the candidates: property next, or one of the others, which are the candidates from
                // next + 1 on; so each point is one comparison, not one per candidate (900 optional properties)
                best = property(next, 0);
                if (candidates.nextSetBit(next + 1) >= 0) {
                    best = pick(best, from(next + 1, Frame.Obj.AFTER_COMMA));
                }
            }
            memo.put(key, new Known(best));
            return best;
        }

        /** Property {@code i} from byte {@code position} of its key on: the key, its value, the rest. */
        byte[] property(int i, int position) {
            byte[] key = object.keyBytes(i);
            byte[] rest = concat(values.get(object.property(i)), from(i + 1, Frame.Obj.AFTER_VALUE));
            return concat(Arrays.copyOfRange(key, position, key.length), rest);
        }

        private static byte[] pick(byte[] best, byte[] candidate) {
            return candidate != null && better(candidate, best) ? candidate : best;
        }
    }

    /** Shorter first, then lower bytes; null (none) is worst. */
    static boolean better(byte[] candidate, byte[] best) {
        return best == null || candidate.length < best.length
                || candidate.length == best.length && Arrays.compareUnsigned(candidate, best) < 0;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        if (a == null || b == null) {
            return null;
        }
        byte[] both = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }

    private static byte[] bytes(String ascii) {
        return ascii.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }
}
