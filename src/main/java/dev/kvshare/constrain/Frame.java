package dev.kvshare.constrain;

import java.util.BitSet;

/**
 * One level of the JSON matcher's stack: what the bytes of the value being read must look like next. Each
 * frame reads one byte with itself on top of {@code self} and adds the stacks that follow; a frame whose value
 * is complete pops itself (adds {@code self.rest()}); a byte it cannot take adds nothing.
 */
sealed interface Frame {

    void step(int b, Stack self, Successors out);

    /** A value of {@code node} starts here. */
    record Value(SchemaNode node) implements Frame {
        @Override
        public void step(int b, Stack self, Successors out) {
            node.start(b, self.rest(), out);
        }
    }

    /** Exactly this byte (the colon after a free-form key). */
    record Expect(int expected) implements Frame {
        @Override
        public void step(int b, Stack self, Successors out) {
            if (b == expected) {
                out.add(self.rest());
            }
        }
    }

    /**
     * Inside a string, after its opening quote: valid UTF-8 (no overlongs, no surrogates), no raw control
     * characters, the short escapes only ({@code \\uXXXX} is left out: it could write a lone surrogate).
     *
     * @param continuations UTF-8 continuation bytes still due; -1 just after a backslash; -2 when the string
     *                      must close now (it reached kvshare.constrain.max-string-chars)
     * @param low           the lowest byte the next continuation may be (E0, ED, F0 and F4 narrow it)
     * @param high          the highest
     */
    record Str(int continuations, int low, int high) implements Frame {

        static final Str PLAIN = new Str(0, 0x80, 0xBF);
        static final Str CLOSING = new Str(-2, 0, 0);
        private static final Str ESCAPE = new Str(-1, 0, 0);

        @Override
        public void step(int b, Stack self, Successors out) {
            if (continuations == CLOSING.continuations) {
                if (b == '"') {
                    out.add(self.rest());
                }
            } else if (continuations > 0) {
                if (b >= low && b <= high) {
                    out.add(continuations == 1 ? replace(self, PLAIN) : replace(self, new Str(continuations - 1,
                            0x80, 0xBF)));
                }
            } else if (continuations == ESCAPE.continuations) {
                if ("\"\\/bfnrt".indexOf(b) >= 0) {
                    out.add(replace(self, PLAIN));
                }
            } else if (b == '"') {
                out.add(self.rest());
            } else if (b == '\\') {
                out.add(replace(self, ESCAPE));
            } else if (b >= 0x20 && b < 0x80) {
                out.add(self); // the common case allocates nothing
            } else if (b >= 0xC2 && b <= 0xDF) {
                out.add(replace(self, new Str(1, 0x80, 0xBF)));
            } else if (b >= 0xE0 && b <= 0xEF) {
                out.add(replace(self, new Str(2, b == 0xE0 ? 0xA0 : 0x80, b == 0xED ? 0x9F : 0xBF)));
            } else if (b >= 0xF0 && b <= 0xF4) {
                out.add(replace(self, new Str(3, b == 0xF0 ? 0x90 : 0x80, b == 0xF4 ? 0x8F : 0xBF)));
            }
        }
    }

    /**
     * Inside a number. Digit counts are bounded so that a number always ends and fits a double (at most
     * 15 integer digits and a two-digit exponent) or, for an integer, a long.
     *
     * @param phase  what was read last (see the constants)
     * @param digits digits read in the current part
     */
    record Num(boolean integer, int phase, int digits) implements Frame {

        static final int MINUS = 0, ZERO = 1, INT = 2, DOT = 3, FRACTION = 4, E = 5, EXPONENT_SIGN = 6,
                EXPONENT = 7;
        static final int MAX_INT_DIGITS = 15, MAX_FRACTION_DIGITS = 15, MAX_EXPONENT_DIGITS = 2;

        /** The first byte of a number. */
        static void start(boolean integer, int b, Stack rest, Successors out) {
            if (b == '-') {
                out.add(rest.push(new Num(integer, MINUS, 0)));
            } else if (b == '0') {
                enter(new Num(integer, ZERO, 1), rest, out);
            } else if (b >= '1' && b <= '9') {
                enter(new Num(integer, INT, 1), rest, out);
            }
        }

        @Override
        public void step(int b, Stack self, Successors out) {
            boolean digit = b >= '0' && b <= '9';
            boolean exponent = (b == 'e' || b == 'E') && !integer;
            Num next = switch (phase) {
                case MINUS -> b == '0' ? new Num(integer, ZERO, 1) : digit ? new Num(integer, INT, 1) : null;
                case ZERO -> b == '.' && !integer ? new Num(false, DOT, 0) : exponent ? new Num(false, E, 0) : null;
                case INT -> digit && digits < MAX_INT_DIGITS ? new Num(integer, INT, digits + 1)
                        : b == '.' && !integer ? new Num(false, DOT, 0) : exponent ? new Num(false, E, 0) : null;
                case DOT -> digit ? new Num(false, FRACTION, 1) : null;
                case FRACTION -> digit && digits < MAX_FRACTION_DIGITS ? new Num(false, FRACTION, digits + 1)
                        : exponent ? new Num(false, E, 0) : null;
                case E -> b == '+' || b == '-' ? new Num(false, EXPONENT_SIGN, 0)
                        : digit ? new Num(false, EXPONENT, 1) : null;
                case EXPONENT_SIGN -> digit ? new Num(false, EXPONENT, 1) : null;
                default -> digit && digits < MAX_EXPONENT_DIGITS ? new Num(false, EXPONENT, digits + 1) : null;
            };
            if (next != null) {
                enter(next, self.rest(), out);
            }
        }

        /** A number that may end here has two futures: it ended (popped), or it goes on. */
        private static void enter(Num num, Stack rest, Successors out) {
            if (num.canEnd()) {
                out.add(rest);
            }
            if (num.canGrow()) {
                out.add(rest.push(num));
            }
        }

        private boolean canEnd() {
            return phase == ZERO || phase == INT || phase == FRACTION || phase == EXPONENT;
        }

        private boolean canGrow() {
            return switch (phase) {
                case ZERO -> !integer;
                case INT -> !integer || digits < MAX_INT_DIGITS;
                case EXPONENT -> digits < MAX_EXPONENT_DIGITS;
                default -> true;
            };
        }
    }

    /**
     * Inside one of a fixed set of byte strings (enum and const values, true/false/null).
     *
     * @param alive the literals whose first {@code position} bytes were read
     */
    record Literal(Literals literals, BitSet alive, int position) implements Frame {

        @Override
        public void step(int b, Stack self, Successors out) {
            literals.advance(alive, position, b, self.rest(), out);
        }
    }

    /**
     * Inside a key of a declared object, after its opening quote: one of the keys that may come next.
     *
     * @param alive the candidate properties whose key's first {@code position} bytes were read
     */
    record Key(SchemaNode.ObjectNode object, BitSet alive, int position) implements Frame {

        @Override
        public void step(int b, Stack self, Successors out) {
            BitSet next = new BitSet();
            for (int i = alive.nextSetBit(0); i >= 0; i = alive.nextSetBit(i + 1)) {
                byte[] key = object.keyBytes(i);
                if ((key[position] & 0xFF) == b) {
                    if (position + 1 == key.length) {
                        out.add(self.rest().push(new Obj(object, i + 1, Obj.AFTER_VALUE),
                                new Value(object.property(i))));
                    } else {
                        next.set(i);
                    }
                }
            }
            if (!next.isEmpty()) {
                out.add(replace(self, new Key(object, next, position + 1)));
            }
        }
    }

    /**
     * Inside a declared object. Properties come in declared order, optional ones may be left out.
     *
     * @param next the first property that may still come
     */
    record Obj(SchemaNode.ObjectNode object, int next, int phase) implements Frame {

        static final int OPEN = 0, AFTER_VALUE = 1, AFTER_COMMA = 2;

        @Override
        public void step(int b, Stack self, Successors out) {
            if (b == '}' && phase != AFTER_COMMA && !object.requiredFrom(next)) {
                out.add(self.rest());
            } else if (b == ',' && phase == AFTER_VALUE && !object.candidates(next).isEmpty()) {
                out.add(replace(self, new Obj(object, next, AFTER_COMMA)));
            } else if (b == '"' && phase != AFTER_VALUE && !object.candidates(next).isEmpty()) {
                out.add(self.rest().push(new Key(object, object.candidates(next), 1)));
            }
        }
    }

    /**
     * Inside a declared array.
     *
     * @param count items read so far, counted only up to the bound that matters (so that states repeat)
     */
    record Arr(SchemaNode.ArrayNode array, int count, int phase) implements Frame {

        static final int OPEN = 0, AFTER_VALUE = 1;

        @Override
        public void step(int b, Stack self, Successors out) {
            if (b == ']' && count >= array.minItems()) {
                out.add(self.rest());
            } else if (phase == OPEN) {
                Stack under = array.allowsMore(0) ? self.rest().push(array.after(1)) : null;
                if (under != null) {
                    array.items().start(b, under, out);
                }
            } else if (b == ',' && array.allowsMore(count)) {
                out.add(self.rest().push(array.after(count + 1), new Value(array.items())));
            }
        }
    }

    /** Inside a free-form object ({@code json_object}, or a schema that allows anything). */
    record AnyObj(int depth, int phase) implements Frame {

        @Override
        public void step(int b, Stack self, Successors out) {
            if (b == '}' && phase != Obj.AFTER_COMMA) {
                out.add(self.rest());
            } else if (b == ',' && phase == Obj.AFTER_VALUE) {
                out.add(replace(self, new AnyObj(depth, Obj.AFTER_COMMA)));
            } else if (b == '"' && phase != Obj.AFTER_VALUE) {
                Stack value = self.rest().push(new AnyObj(depth, Obj.AFTER_VALUE),
                        new Value(new SchemaNode.AnyNode(depth + 1)));
                out.add(value == null ? null : value.push(new Expect(':'), Str.PLAIN));
            }
        }
    }

    /** Inside a free-form array. */
    record AnyArr(int depth, int phase) implements Frame {

        @Override
        public void step(int b, Stack self, Successors out) {
            if (b == ']') {
                out.add(self.rest());
            } else if (phase == Arr.OPEN) {
                Stack under = self.rest().push(new AnyArr(depth, Arr.AFTER_VALUE));
                if (under != null) {
                    new SchemaNode.AnyNode(depth + 1).start(b, under, out);
                }
            } else if (b == ',') {
                out.add(self.rest().push(new AnyArr(depth, Arr.AFTER_VALUE),
                        new Value(new SchemaNode.AnyNode(depth + 1))));
            }
        }
    }

    private static Stack replace(Stack self, Frame frame) {
        return self.rest().push(frame);
    }
}
