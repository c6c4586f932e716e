package dev.kvshare.constrain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.json.JsonMapper;

/**
 * The completion a token budget follows is the shortest, lowest-byte one the matcher itself allows: checked
 * against a breadth-first search over bytes from states reached by random valid walks.
 */
@Execution(ExecutionMode.CONCURRENT) // CPU-bound, no native tensor: beside the other unit tests
class ShortestCompletionTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final int WALKS = 6;

    static Stream<String> schemas() {
        return Stream.concat(SchemaGuarantee.SCHEMAS.stream(), Stream.of("ticket"));
    }

    @ParameterizedTest
    @MethodSource("schemas")
    void isTheShortestLowestCompletionABreadthFirstSearchFinds(String name) {
        SchemaNode root = JsonSchemaCompiler.compile(SchemaGuarantee.schema(name),
                ConstraintProperties.DEFAULTS.limits());
        ShortestCompletion completions = new ShortestCompletion(root);
        int checked = 0;
        // walks revisit states (most bytes leave a string's state as it was): one search per distinct state
        Map<MatchState, byte[]> oracle = new HashMap<>();
        for (int walk = 0; walk < WALKS; walk++) {
            SplittableRandom random = new SplittableRandom(walk);
            MatchState state = MatchState.start(root);
            for (int step = 0; step < 60 && state != null && !state.terminal(); step++) {
                byte[] expected = oracle.computeIfAbsent(state, ShortestCompletionTest::breadthFirst);
                assertThat(completions.of(state)).as("%s after step %d of walk %d at %s", name, step, walk, state)
                        .isEqualTo(expected);
                checked++;
                state = randomStep(state, random);
            }
        }
        assertThat(checked).isGreaterThan(WALKS * 5);
    }

    @Test
    void aSchemaWhoseOnlyValuesAreInfiniteNeverReachesIt() {
        // Every compiled schema has a finite value: the compiler refuses the others, naming the $ref.
        assertThatThrownBy(() -> JsonSchemaCompiler.compile(JSON.readTree("""
                {"type": "object", "properties": {"next": {"$ref": "#"}}, "required": ["next"]}"""),
                ConstraintProperties.DEFAULTS.limits()))
                .isInstanceOf(UnsupportedSchemaException.class).hasMessageContaining("no finite value");
    }

    @Test
    void aRecursiveValueIsCompletedThroughItsShortestBranch() {
        SchemaNode root = JsonSchemaCompiler.compile(SchemaGuarantee.schema("recursive"),
                ConstraintProperties.DEFAULTS.limits());

        assertThat(new String(new ShortestCompletion(root).of(MatchState.start(root)), StandardCharsets.UTF_8))
                .isEqualTo("{\"name\":\"\",\"children\":[]}");
    }

    /** A byte the state takes, at random, that does not end the value; null when every byte ends it. */
    private static MatchState randomStep(MatchState state, SplittableRandom random) {
        List<MatchState> next = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            MatchState after = state.step(b);
            if (after != null && !after.terminal()) {
                next.add(after);
            }
        }
        return next.isEmpty() ? null : next.get(random.nextInt(next.size()));
    }

    /** The shortest bytes to an accepting state, the lowest first where several are as short. */
    private static byte[] breadthFirst(MatchState start) {
        Map<MatchState, byte[]> seen = new HashMap<>();
        List<MatchState> level = List.of(start);
        seen.put(start, new byte[0]);
        while (!level.isEmpty()) {
            for (MatchState state : level) { // in order of their lowest paths, so the first accepting one is lowest
                if (state.accepting()) {
                    return seen.get(state);
                }
            }
            List<MatchState> next = new ArrayList<>();
            for (MatchState state : level) {
                byte[] path = seen.get(state);
                for (int b = 0; b < 256; b++) {
                    MatchState after = state.step(b);
                    if (after != null && !seen.containsKey(after)) {
                        byte[] longer = java.util.Arrays.copyOf(path, path.length + 1);
                        longer[path.length] = (byte) b;
                        seen.put(after, longer);
                        next.add(after);
                    }
                }
            }
            level = next;
        }
        return null;
    }
}
