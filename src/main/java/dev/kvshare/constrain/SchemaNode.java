package dev.kvshare.constrain;

import java.nio.charset.StandardCharsets;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/** A compiled schema node: which first bytes a value of it may start with, and what is expected after. */
sealed interface SchemaNode {

    /** Reads {@code b} as the first byte of a value of this node, {@code rest} below it. */
    void start(int b, Stack rest, Successors out);

    /** Any JSON value, nested at most {@link #MAX_DEPTH} deep. */
    record AnyNode(int depth) implements SchemaNode {

        static final int MAX_DEPTH = 20;

        @Override
        public void start(int b, Stack rest, Successors out) {
            if (b == '{' && depth < MAX_DEPTH) {
                out.add(rest.push(new Frame.AnyObj(depth, Frame.Obj.OPEN)));
            } else if (b == '[' && depth < MAX_DEPTH) {
                out.add(rest.push(new Frame.AnyArr(depth, Frame.Arr.OPEN)));
            } else if (b == '"') {
                out.add(rest.push(Frame.Str.PLAIN));
            } else if (b == '-' || (b >= '0' && b <= '9')) {
                Frame.Num.start(false, b, rest, out);
            } else {
                Literals.TRUE_FALSE_NULL.start(b, rest, out);
            }
        }
    }

    /** A free-form object: {@code {"type": "object"}} with no properties, and {@code json_object}. */
    record AnyObjectNode() implements SchemaNode {
        @Override
        public void start(int b, Stack rest, Successors out) {
            if (b == '{') {
                out.add(rest.push(new Frame.AnyObj(0, Frame.Obj.OPEN)));
            }
        }
    }

    record StringNode() implements SchemaNode {
        @Override
        public void start(int b, Stack rest, Successors out) {
            if (b == '"') {
                out.add(rest.push(Frame.Str.PLAIN));
            }
        }
    }

    record NumberNode(boolean integer) implements SchemaNode {
        @Override
        public void start(int b, Stack rest, Successors out) {
            Frame.Num.start(integer, b, rest, out);
        }
    }

    record LiteralsNode(Literals literals) implements SchemaNode {
        @Override
        public void start(int b, Stack rest, Successors out) {
            literals.start(b, rest, out);
        }
    }

    record AnyOfNode(List<SchemaNode> alternatives) implements SchemaNode {
        @Override
        public void start(int b, Stack rest, Successors out) {
            for (SchemaNode alternative : alternatives) {
                alternative.start(b, rest, out);
            }
        }
    }

    /** A {@code $ref}; resolved when first read, so that definitions may refer to each other and to themselves. */
    record RefNode(String ref, Map<String, SchemaNode> definitions) implements SchemaNode {
        @Override
        public void start(int b, Stack rest, Successors out) {
            definitions.get(ref).start(b, rest, out);
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof RefNode node && node.ref.equals(ref) && node.definitions == definitions;
        }

        @Override
        public int hashCode() {
            return ref.hashCode();
        }

        @Override
        public String toString() {
            return "RefNode[" + ref + "]";
        }
    }

    /**
     * @param maxItems -1 for no bound
     */
    record ArrayNode(SchemaNode items, int minItems, int maxItems) implements SchemaNode {

        @Override
        public void start(int b, Stack rest, Successors out) {
            if (b == '[') {
                out.add(rest.push(new Frame.Arr(this, 0, Frame.Arr.OPEN)));
            }
        }

        boolean allowsMore(int count) {
            return maxItems < 0 || count < maxItems;
        }

        /** The frame after item {@code count}, which counts no further than a bound can tell apart. */
        Frame.Arr after(int count) {
            return new Frame.Arr(this, Math.min(count, Math.max(minItems, maxItems)), Frame.Arr.AFTER_VALUE);
        }
    }

    /**
     * An object with declared properties, written in declared order; those not required may be left out.
     * Identity equality: one compiled node, one set of cached masks.
     */
    final class ObjectNode implements SchemaNode {

        private final byte[][] keys;
        private final SchemaNode[] properties;
        private final BitSet[] candidates;
        private final boolean[] required;
        private final boolean[] requiredFrom;

        /**
         * @param jsonKeys each property's name as a JSON string, quotes included
         * @param required which properties must be present
         */
        ObjectNode(List<String> jsonKeys, List<SchemaNode> properties, boolean[] required) {
            int n = jsonKeys.size();
            this.keys = new byte[n][];
            for (int i = 0; i < n; i++) {
                keys[i] = (jsonKeys.get(i) + ":").getBytes(StandardCharsets.UTF_8);
            }
            this.properties = properties.toArray(SchemaNode[]::new);
            this.candidates = new BitSet[n + 1];
            this.required = required.clone();
            this.requiredFrom = new boolean[n + 1];
            candidates[n] = new BitSet();
            for (int from = n - 1; from >= 0; from--) {
                requiredFrom[from] = required[from] || requiredFrom[from + 1];
                candidates[from] = required[from] ? new BitSet() : (BitSet) candidates[from + 1].clone();
                candidates[from].set(from);
            }
        }

        @Override
        public void start(int b, Stack rest, Successors out) {
            if (b == '{') {
                out.add(rest.push(new Frame.Obj(this, 0, Frame.Obj.OPEN)));
            }
        }

        /** How many properties are declared. */
        int size() {
            return keys.length;
        }

        /** {@code "name":}, the bytes a key is matched against. */
        byte[] keyBytes(int property) {
            return keys[property];
        }

        SchemaNode property(int index) {
            return properties[index];
        }

        List<SchemaNode> properties() {
            return List.of(properties);
        }

        /** Properties that may come next once those before {@code from} are done (up to the next required one). */
        BitSet candidates(int from) {
            return candidates[from];
        }

        /** Whether every required property's schema satisfies {@code test}. */
        boolean requiredPropertiesMatch(Predicate<SchemaNode> test) {
            for (int i = 0; i < properties.length; i++) {
                if (required[i] && !test.test(properties[i])) {
                    return false;
                }
            }
            return true;
        }

        /** Whether a property at or after {@code from} is required: the object cannot close yet. */
        boolean requiredFrom(int from) {
            return requiredFrom[from];
        }
    }
}
