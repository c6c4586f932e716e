package dev.kvshare.generation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The batch scheduler's admission and prefill budget alone, without a model. */
class BatchPolicyTest {

    /** Runs one iteration's prefill over prompts with {@code remaining} tokens each, as PromptPrefill does. */
    private static List<String> iteration(BatchPolicy<String> policy, Map<String, Integer> remaining) {
        List<String> ran = new ArrayList<>();
        BatchPolicy<String>.Prefill budget = policy.prefill();
        for (String sequence = budget.next(); sequence != null; sequence = budget.next()) {
            int left = remaining.get(sequence);
            // All but the last prompt token as one extend pass, then the last token alone.
            int tokens = left > 1 ? Math.min(budget.grant(), left - 1) : 1;
            remaining.put(sequence, left - tokens);
            budget.spent(sequence, tokens, left - tokens == 0);
            ran.add(sequence + ":" + tokens);
        }
        return ran;
    }

    @Test
    void admitsInArrivalOrderUpToTheBatchSize() {
        BatchPolicy<String> policy = new BatchPolicy<>(2, 256, sequence -> sequence);
        policy.enqueue("a");
        policy.enqueue("b");
        policy.enqueue("c");

        assertThat(policy.admit()).containsExactly("a", "b");
        assertThat(policy.canAdmit()).isFalse();

        policy.retire("a");
        assertThat(policy.admit()).containsExactly("c");
        assertThat(policy.prefillOrder()).containsExactly("b", "c");
    }

    @Test
    void aLongPromptTakesTheBudgetPerIterationAndTheNextWaitsItsTurn() {
        BatchPolicy<String> policy = new BatchPolicy<>(4, 100, sequence -> sequence);
        policy.enqueue("long");
        policy.enqueue("short");
        policy.admit();
        Map<String, Integer> remaining = new LinkedHashMap<>(Map.of("long", 250, "short", 10));

        assertThat(iteration(policy, remaining)).containsExactly("long:100");
        assertThat(iteration(policy, remaining)).containsExactly("long:100");
        // 49 extend tokens and the last one leave 50 of the budget to the next prompt.
        assertThat(iteration(policy, remaining)).containsExactly("long:49", "long:1", "short:9", "short:1");
        assertThat(policy.prefilling()).isFalse();
    }

    @Test
    void aSequenceThatLeavesFreesItsPlaceWhereverItIs() {
        BatchPolicy<String> policy = new BatchPolicy<>(1, 16, sequence -> sequence);
        policy.enqueue("a");
        policy.enqueue("b");
        policy.admit();

        assertThat(policy.withdraw("b")).isTrue();
        assertThat(policy.withdraw("b")).isFalse();
        policy.retire("a"); // left while prefilling

        assertThat(policy.idle()).isTrue();
        assertThat(policy.prefilling()).isFalse();
    }

    @Test
    void aPrefillCannotSpendMoreThanItWasGranted() {
        BatchPolicy<String> policy = new BatchPolicy<>(1, 8, sequence -> sequence);
        policy.enqueue("a");
        policy.admit();
        BatchPolicy<String>.Prefill budget = policy.prefill();

        assertThatThrownBy(() -> budget.spent("a", 9, false)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void failingTakesEveryWaitingSequenceOut() {
        BatchPolicy<String> policy = new BatchPolicy<>(1, 8, sequence -> sequence);
        policy.enqueue("a");
        policy.enqueue("b");
        policy.enqueue("c");
        policy.admit();

        assertThat(policy.drainWaiting()).containsExactly("b", "c");
        assertThat(policy.canAdmit()).isFalse();
    }

    /** A policy whose sequences are named {@code client-n}. */
    private static BatchPolicy<String> byClient(int maxBatchSize) {
        return new BatchPolicy<>(maxBatchSize, 256, sequence -> sequence.substring(0, sequence.indexOf('-')));
    }

    @Test
    void aFreePlaceGoesToTheClientWithTheFewestAdmitted() {
        BatchPolicy<String> policy = byClient(2);
        policy.enqueue("hog-0");
        policy.enqueue("hog-1");
        policy.enqueue("hog-2");
        policy.enqueue("new-0");

        assertThat(policy.admit()).containsExactly("hog-0", "new-0");
    }

    @Test
    void aClientWithNoPlaceTakesTheYoungestOfTheClientHoldingTheMost() {
        BatchPolicy<String> policy = byClient(3);
        List.of("hog-0", "hog-1", "other-0").forEach(policy::enqueue);
        policy.admit();
        policy.enqueue("hog-2");
        policy.enqueue("new-0");

        assertThat(policy.preemption(sequence -> true)).contains("hog-1");
        assertThat(policy.admit()).containsExactly("new-0");
        assertThat(policy.preemption(sequence -> true)).isEmpty(); // every waiting client has a place
    }

    @Test
    void aClientHoldingTwoFewerPlacesThanTheBusiestTakesOneOfThem() {
        BatchPolicy<String> policy = byClient(4);
        List.of("hog-0", "hog-1", "hog-2", "a-0").forEach(policy::enqueue);
        policy.admit();
        policy.enqueue("a-1");

        assertThat(policy.preemption(sequence -> true)).contains("hog-2"); // 1 against 3
        assertThat(policy.admit()).containsExactly("a-1");
        policy.enqueue("a-2");
        assertThat(policy.preemption(sequence -> true)).isEmpty(); // 2 against 2
    }

    @Test
    void onlyAPreemptibleSequenceIsPreempted() {
        BatchPolicy<String> policy = byClient(2);
        policy.enqueue("hog-0");
        policy.enqueue("hog-1");
        policy.admit();
        policy.enqueue("new-0");

        assertThat(policy.preemption(sequence -> !sequence.equals("hog-1"))).contains("hog-0");
        assertThat(policy.preemption(sequence -> true)).isEmpty(); // a place is free now
    }

    @Test
    void noPreemptionWhileThereIsRoomOrNoClientHoldsTwo() {
        BatchPolicy<String> policy = byClient(2);
        policy.enqueue("hog-0");
        policy.admit();
        policy.enqueue("new-0");
        assertThat(policy.preemption(sequence -> true)).isEmpty(); // room: new-0 is simply admitted

        policy.enqueue("third-0");
        policy.admit();
        assertThat(policy.preemption(sequence -> true)).isEmpty();
    }

    @Test
    void aPreemptedSequenceResumesFirstInItsClientsTurnWithoutAPrefill() {
        BatchPolicy<String> policy = byClient(2);
        policy.enqueue("hog-0");
        policy.enqueue("hog-1");
        policy.admit();
        policy.prefill().spent("hog-0", 0, true);
        policy.prefill().spent("hog-1", 0, true);
        policy.enqueue("hog-2");
        policy.enqueue("new-0");
        policy.preemption(sequence -> true);
        policy.admit();

        policy.retire("new-0");
        assertThat(policy.admit()).containsExactly("hog-1");
        assertThat(policy.prefillOrder()).isEmpty(); // it rejoins with the KV it has
    }
}
