package dev.kvshare.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import dev.kvshare.testsupport.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Rows joining and leaving the batch's KV in place, in every order a scheduler makes (a short row joining, a
 * long one forcing a re-layout, a row leaving with the last taking its place, the last leaving, a long row
 * leaving so much padding that the rows are re-laid out, a leave and a join in one change), each pass against
 * every sequence run alone; and what each change copied: the joining or moved rows only, when in place (the
 * split layout of the bundled model and the Llama export; the GPT-2 export's stacked one re-lays out each time).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KvArenaTest {

    private static final double TOLERANCE = 1e-4;
    private static final int STEPS = 14;
    private static final int[] PROMPT_LENGTHS = {12, 5, 30, 10, 3};

    private final Map<String, ServedModel> models = new HashMap<>();

    @BeforeAll
    void load() {
        modelNames().forEach(name -> models.put(name, TestModels.load(name)));
    }

    @AfterAll
    void close() throws Exception {
        for (ServedModel model : models.values()) {
            model.close();
        }
    }

    Stream<String> modelNames() {
        return Stream.of(TestModels.GPT2, TestModels.LLAMA, TestModels.BUNDLED);
    }

    /**
     * One sequence alone: its prompt's cache (all but the last token, which is its first step's: lengths 11,
     * 4, 29, 9 and 2) and each step's token and logits.
     */
    private record Alone(KvCache prompt, int[] tokens, List<float[]> logits) {
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("modelNames")
    void rowsJoiningAndLeavingInPlaceGetTheirLogitsAlone(String name) {
        DecoderModel model = models.get(name).decoder();
        // Stacked, a tensor's value half starts after every row's key half: every change re-lays out.
        boolean split = model.io().kv().layout() == KvLayout.SPLIT;
        long bytesPerToken = model.io().kv().bytesPerToken();
        long liveBefore = model.liveTensors().count();
        List<Alone> alone = new ArrayList<>();
        for (int i = 0; i < PROMPT_LENGTHS.length; i++) {
            alone.add(alone(model, i));
        }
        try (KvArena arena = model.newArena(4)) {
            Batch batch = new Batch(model, arena, alone);
            batch.change(List.of(), 0);
            assertThat(arena.bytesCopied()).as("the first row").isEqualTo(bytesPerToken * 11);
            batch.passes(1);
            batch.change(List.of(), 1);
            assertThat(arena.bytesCopied()).as("a shorter row joins: itself, padded").isEqualTo(bytesPerToken * (split ? 12 : 2 * 12));
            batch.passes(2);
            batch.change(List.of(), 2);
            assertThat(arena.bytesCopied()).as("a longer row joins: every row re-laid out")
                    .isEqualTo(bytesPerToken * 29 * 3);
            batch.passes(1);
            batch.change(List.of(0), 3); // the last row (the long one) moves into the hole, the newcomer after it
            assertThat(batch.sequences).containsExactly(2, 1, 3);
            assertThat(arena.bytesCopied()).as("a leave and a join: two rows")
                    .isEqualTo(bytesPerToken * 30 * (split ? 2 : 3));
            batch.passes(2);
            batch.change(List.of(2));
            assertThat(arena.bytesCopied()).as("the last row leaves").isEqualTo(split ? 0 : bytesPerToken * 32 * 2);
            batch.passes(1);
            batch.change(List.of(0)); // the long row leaves: 33 columns for the short row's 10
            assertThat(batch.sequences).containsExactly(1);
            assertThat(arena.bytesCopied()).as("re-laid out at the short row's width")
                    .isEqualTo(bytesPerToken * 10);
            batch.passes(1);
            batch.change(List.of(), 4);
            batch.passes(2);
            batch.change(List.of(0, 1));
            assertThat(arena.rows()).isZero();
            assertThat(batch.worst).as("max |Δlogit|").isLessThanOrEqualTo(TOLERANCE);
        } finally {
            alone.forEach(run -> run.prompt().close());
        }
        assertThat(model.liveTensors().count()).as("native tensors after the arena closed").isEqualTo(liveBefore);
    }

    /** Drives an arena as the scheduler does, checking each pass's rows against their sequences alone. */
    private static final class Batch {

        private final DecoderModel model;
        private final KvArena arena;
        private final List<Alone> alone;
        /** Which sequence each row is, and how many steps each sequence has taken. */
        private final List<Integer> sequences = new ArrayList<>();
        private final int[] steps;
        private double worst;

        Batch(DecoderModel model, KvArena arena, List<Alone> alone) {
            this.model = model;
            this.arena = arena;
            this.alone = alone;
            this.steps = new int[alone.size()];
        }

        void change(List<Integer> leaving, int... joining) {
            int[] order = arena.change(leaving,
                    Arrays.stream(joining).mapToObj(j -> KvRow.of(alone.get(j).prompt())).toList());
            List<Integer> before = List.copyOf(sequences);
            sequences.clear();
            for (int o : order) {
                sequences.add(o >= 0 ? before.get(o) : joining[-1 - o]);
            }
        }

        void passes(int count) {
            for (int p = 0; p < count; p++) {
                int[] tokens = sequences.stream().mapToInt(s -> alone.get(s).tokens()[steps[s]]).toArray();
                try (Logits logits = model.newLogits(tokens.length)) {
                    model.stepInPlace(tokens, arena, logits);
                    float[] row = new float[model.io().vocabSize()];
                    for (int r = 0; r < tokens.length; r++) {
                        int sequence = sequences.get(r);
                        float[] expected = alone.get(sequence).logits().get(steps[sequence]++);
                        logits.copyRow(r, row);
                        assertThat(Logits.argmax(row)).as("sequence %d, step %d", sequence, steps[sequence])
                                .isEqualTo(Logits.argmax(expected));
                        worst = Math.max(worst, BatchProbe.maxAbsDifference(expected, row));
                    }
                }
            }
        }
    }

    /** Sequence {@code i} alone: its prompt's last token, then its own greedy tokens, one pass each. */
    private static Alone alone(DecoderModel model, int i) {
        int[] prompt = new int[PROMPT_LENGTHS[i]];
        int vocab = Math.min(1000, model.io().vocabSize());
        Arrays.setAll(prompt, t -> (t * 31 + i * 7 + 3) % vocab);
        KvCache cache = model.extend(Arrays.copyOf(prompt, prompt.length - 1), model.emptyCache());
        int[] tokens = new int[STEPS];
        tokens[0] = prompt[prompt.length - 1];
        List<float[]> logits = new ArrayList<>();
        try (Logits out = model.newLogits()) {
            KvCache past = cache;
            for (int s = 0; s < STEPS; s++) {
                KvCache next = model.step(tokens[s], past, out);
                if (past != cache) {
                    past.close();
                }
                past = next;
                logits.add(out.values().clone());
                if (s + 1 < STEPS) {
                    tokens[s + 1] = Logits.argmax(out.values());
                }
            }
            past.close();
        }
        return new Alone(cache, tokens, logits);
    }
}
