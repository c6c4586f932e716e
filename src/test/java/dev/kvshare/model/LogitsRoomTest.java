package dev.kvshare.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import dev.kvshare.testsupport.TestModels;
import org.junit.jupiter.api.Test;

/**
 * A {@link LogitsRoom}'s logits, over one buffer for any number of rows, hold what a pass writes exactly as a
 * buffer of their own does, before and after the buffer grows; asking again for as many rows hands out the same
 * logits, another number closes them; the room holds one tensor at a time and none once closed.
 */
class LogitsRoomTest {

    @Test
    void passesOfEveryRowCountWriteIntoTheSharedBufferAsIntoTheirOwn() throws Exception {
        try (ServedModel served = TestModels.load(TestModels.GPT2)) {
            DecoderModel model = served.decoder();
            List<KvCache> caches = new ArrayList<>();
            for (int r = 0; r < 5; r++) {
                caches.add(model.extend(new int[] {3 + r, 7, 11 + 2 * r}, model.emptyCache()));
            }
            long liveBefore = model.liveTensors().count();
            try (LogitsRoom room = model.newLogitsRoom(5)) {
                Logits one = room.rows(1);
                assertSamePass(model, caches.subList(0, 1), one);
                assertThat(room.rows(1)).isSameAs(one);
                Logits three = room.rows(3); // within the room the first use made: the same buffer
                assertThat(one.tensor().isClosed()).isTrue();
                assertSamePass(model, caches.subList(0, 3), three);
                assertThat(model.liveTensors().count()).isEqualTo(liveBefore + 1);

                Logits five = room.rows(5); // grows
                assertThat(three.tensor().isClosed()).isTrue();
                assertSamePass(model, caches, five);
                assertSamePass(model, caches.subList(2, 3), room.rows(1));
                assertThat(model.liveTensors().count()).isEqualTo(liveBefore + 1);
                assertThatThrownBy(() -> room.rows(6)).isInstanceOf(IllegalArgumentException.class);
                assertThatThrownBy(() -> room.rows(0)).isInstanceOf(IllegalArgumentException.class);
            }
            assertThat(model.liveTensors().count()).isEqualTo(liveBefore);
            caches.forEach(KvCache::close);
        }
    }

    /** A batched step of {@code pasts} into {@code logits} writes each row what it writes into a buffer of its own. */
    private static void assertSamePass(DecoderModel model, List<KvCache> pasts, Logits logits) {
        int[] tokens = new int[pasts.size()];
        Arrays.fill(tokens, 5);
        int vocab = model.io().vocabSize();
        try (BatchedKv batch = model.pack(pasts.stream().map(KvRow::of).toList());
             Logits own = model.newLogits(pasts.size())) {
            model.stepBatch(tokens, batch, own).close();
            model.stepBatch(tokens, batch, logits).close();
            for (int r = 0; r < pasts.size(); r++) {
                assertThat(logits.copyRow(r, new float[vocab])).containsExactly(own.copyRow(r, new float[vocab]));
            }
        }
    }
}
