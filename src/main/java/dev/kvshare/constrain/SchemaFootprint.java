package dev.kvshare.constrain;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * About how many heap bytes a compiled schema holds, so that the cache of compiled schemas can be bounded in
 * bytes rather than in entries (one entry may be a hundred tools of a thousand properties). An estimate from
 * 64-bit JVM object layouts, erring high; each node is counted once however often it is referred to.
 */
final class SchemaFootprint {

    private static final long OBJECT = 16;
    private static final long REFERENCE = 8;
    private static final long ARRAY = 16;
    private static final long BIT_SET = 40;

    private final Set<SchemaNode> seen = Collections.newSetFromMap(new IdentityHashMap<>());

    private SchemaFootprint() {
    }

    static long of(SchemaNode root) {
        return new SchemaFootprint().bytes(root);
    }

    private long bytes(SchemaNode node) {
        if (!seen.add(node)) {
            return 0;
        }
        if (node instanceof SchemaNode.LiteralsNode literals) {
            return OBJECT + REFERENCE + literals.literals().bytes();
        }
        if (node instanceof SchemaNode.AnyOfNode anyOf) {
            long bytes = OBJECT + REFERENCE + ARRAY + REFERENCE * anyOf.alternatives().size();
            for (SchemaNode alternative : anyOf.alternatives()) {
                bytes += bytes(alternative);
            }
            return bytes;
        }
        if (node instanceof SchemaNode.RefNode ref) {
            SchemaNode target = ref.definitions().get(ref.ref());
            return OBJECT + 2 * REFERENCE + 3 * OBJECT + (target == null ? 0 : bytes(target)); // + its map entry
        }
        if (node instanceof SchemaNode.ArrayNode array) {
            return OBJECT + REFERENCE + 8 + bytes(array.items());
        }
        if (node instanceof SchemaNode.ObjectNode object) {
            int n = object.size();
            long bytes = OBJECT + 4 * REFERENCE + 4 * ARRAY + 3 * REFERENCE * n + 2L * (n + 1);
            for (int i = 0; i < n; i++) {
                bytes += ARRAY + object.keyBytes(i).length + bytes(object.property(i));
            }
            for (int from = 0; from <= n; from++) {
                bytes += BIT_SET + object.candidates(from).size() / 8;
            }
            return bytes;
        }
        return OBJECT + REFERENCE;
    }
}
