package dev.kvshare.generation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.ToIntFunction;

import org.junit.jupiter.api.Test;

/** The batch scheduler's admission and prefill budget alone, without a model. */
class BatchPolicyTest {

    private static final double SLOWDOWN = 1.2;

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
        BatchPolicy<String> policy = new BatchPolicy<>(2, 256, sequence -> sequence, client -> 0, new PassTimes(), SLOWDOWN);
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
        BatchPolicy<String> policy = new BatchPolicy<>(4, 100, sequence -> sequence, client -> 0, new PassTimes(), SLOWDOWN);
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
        BatchPolicy<String> policy = new BatchPolicy<>(1, 16, sequence -> sequence, client -> 0, new PassTimes(), SLOWDOWN);
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
        BatchPolicy<String> policy = new BatchPolicy<>(1, 8, sequence -> sequence, client -> 0, new PassTimes(), SLOWDOWN);
        policy.enqueue("a");
        policy.admit();
        BatchPolicy<String>.Prefill budget = policy.prefill();

        assertThatThrownBy(() -> budget.spent("a", 9, false)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void failingTakesEveryWaitingSequenceOut() {
        BatchPolicy<String> policy = new BatchPolicy<>(1, 8, sequence -> sequence, client -> 0, new PassTimes(), SLOWDOWN);
        policy.enqueue("a");
        policy.enqueue("b");
        policy.enqueue("c");
        policy.admit();

        assertThat(policy.drainWaiting()).containsExactly("b", "c");
        assertThat(policy.canAdmit()).isFalse();
    }

    /** A policy whose sequences are named {@code client-n}. */
    private static BatchPolicy<String> byClient(int maxBatchSize) {
        return byClient(maxBatchSize, new PassTimes());
    }

    /** Sequences named client-n, over passes that cost what {@code passTimes} learnt. */
    private static BatchPolicy<String> byClient(int maxBatchSize, PassTimes passTimes) {
        return byClient(maxBatchSize, passTimes, client -> 0);
    }

    /** As above, with {@code queued} requests of each client waiting for admission before they come here. */
    private static BatchPolicy<String> byClient(int maxBatchSize, PassTimes passTimes, ToIntFunction<String> queued) {
        return new BatchPolicy<>(maxBatchSize, 256, sequence -> sequence.substring(0, sequence.indexOf('-')),
                queued, passTimes, SLOWDOWN);
    }

    /** hog-0 and hog-1 admitted and prefilled: two rows of the hog's in the batch. */
    private static void twoHogRowsRunning(BatchPolicy<String> policy) {
        policy.enqueue("hog-0");
        policy.enqueue("hog-1");
        policy.admit();
        policy.prefill().spent("hog-0", 0, true);
        policy.prefill().spent("hog-1", 0, true);
    }

    /** Passes that ran with 1 to 4 rows, each taking {@code nanos[rows - 1]}. */
    private static PassTimes ran(long... nanos) {
        PassTimes passTimes = new PassTimes();
        for (int rows = 1; rows <= nanos.length; rows++) {
            passTimes.ran(rows, nanos[rows - 1]);
        }
        return passTimes;
    }

    /** The preemptions due now, one call each, as the scheduler makes them. */
    private static List<String> preemptions(BatchPolicy<String> policy) {
        List<String> victims = new ArrayList<>();
        for (Optional<String> victim = policy.preemption(sequence -> true); victim.isPresent();
             victim = policy.preemption(sequence -> true)) {
            victims.add(victim.get());
        }
        return victims;
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
    void aNewcomersPromptIsPrefilledBeforeThePromptsOfAClientWithMoreRows() {
        BatchPolicy<String> policy = byClient(4);
        twoHogRowsRunning(policy);
        policy.enqueue("hog-2");
        policy.admit(); // a prompt of the hog's, admitted first
        policy.enqueue("new-0");
        policy.admit();
        Map<String, Integer> remaining = new LinkedHashMap<>(Map.of("hog-2", 20, "new-0", 20));

        assertThat(policy.prefillOrder()).containsExactly("new-0", "hog-2"); // no row against two
        // As the scheduler's prefill runs them: the newcomer's prompt first, the hog's after it.
        assertThat(iteration(policy, remaining)).containsExactly("new-0:19", "new-0:1", "hog-2:19", "hog-2:1");
    }

    @Test
    void clientsPromptsTakeTurnsAndArrivalOrderDecidesAmongEquals() {
        BatchPolicy<String> policy = byClient(4);
        List.of("a-0", "a-1", "a-2").forEach(policy::enqueue);
        policy.admit();
        policy.enqueue("b-0");
        policy.admit();

        assertThat(policy.prefillOrder()).containsExactly("a-0", "b-0", "a-1", "a-2");
    }

    @Test
    void aPreemptedSequenceResumesFirstInItsClientsTurnWithoutAPrefill() {
        BatchPolicy<String> policy = byClient(2);
        twoHogRowsRunning(policy);
        policy.enqueue("hog-2");
        policy.enqueue("new-0");
        policy.preemption(sequence -> true);
        policy.admit();

        policy.retire("new-0");
        assertThat(policy.admit()).containsExactly("hog-1");
        assertThat(policy.prefillOrder()).isEmpty(); // it rejoins with the KV it has
    }

    @Test
    void aClientWithMoreSequencesGivesUpThePlacesThatSlowItsNeighboursPassesWhenRowsAreExpensive() {
        BatchPolicy<String> policy = byClient(4, ran(10, 20, 30, 40)); // a pass costs as much per row
        List.of("hog-0", "hog-1", "hog-2", "hog-3").forEach(policy::enqueue);
        assertThat(policy.admit()).hasSize(4); // alone, it takes every place
        policy.enqueue("a-0");

        // The newcomer takes the youngest's place; then 3 rows of the hog's would make a's passes 40/10 as slow
        // as its row alone, 2 rows 30/10: beyond 1.2 either way.
        assertThat(preemptions(policy)).containsExactly("hog-3");
        assertThat(policy.admit()).containsExactly("a-0");
        assertThat(preemptions(policy)).containsExactly("hog-2", "hog-1");
        assertThat(policy.canAdmit()).isFalse(); // two places free, and the hog may take none of them
        assertThat(policy.admit()).isEmpty();

        policy.enqueue("a-1"); // a's own second sequence is let in: the hog has more
        assertThat(policy.admit()).containsExactly("a-1");
        assertThat(preemptions(policy)).isEmpty();
    }

    @Test
    void aClientWithMoreSequencesTakesEveryPlaceOnceItsNeighboursAreGone() {
        BatchPolicy<String> policy = byClient(4, ran(10, 20, 30, 40));
        List.of("hog-0", "hog-1", "hog-2").forEach(policy::enqueue);
        policy.admit();
        policy.enqueue("a-0");
        assertThat(policy.admit()).containsExactly("a-0"); // a free place
        assertThat(preemptions(policy)).containsExactly("hog-2", "hog-1");

        policy.retire("a-0");
        assertThat(policy.admit()).containsExactly("hog-1", "hog-2"); // resumed, the youngest last
    }

    @Test
    void aClientWithMoreSequencesKeepsItsExtraPlacesWhenRowsAreNearlyFree() {
        BatchPolicy<String> policy = byClient(4, ran(100, 105, 110, 115)); // a memory-bound model's passes
        List.of("hog-0", "hog-1", "hog-2", "hog-3").forEach(policy::enqueue);
        policy.admit();
        policy.enqueue("a-0");

        assertThat(preemptions(policy)).containsExactly("hog-3"); // only for the newcomer's place
        assertThat(policy.admit()).containsExactly("a-0");
        assertThat(preemptions(policy)).isEmpty(); // 115 against a-0's row alone, 100: within 1.2
    }

    @Test
    void aClientsExtraPlacesAreWeighedAgainstItsNeighboursRowsWithoutIt() {
        // Passes as the bundled model's on 2 cores: each row costs less than the one before, but not nothing.
        BatchPolicy<String> policy = byClient(4, ran(100, 120, 160, 185));
        List.of("a-0", "b-0").forEach(policy::enqueue);
        policy.admit();
        List.of("hog-0", "hog-1", "hog-2", "hog-3").forEach(policy::enqueue);

        // Its first place is its own (160 against 120); a second would make a's and b's passes 185/120 as slow
        // as theirs alone, though only 185/160 as slow as beside its first place.
        assertThat(policy.admit()).containsExactly("hog-0");
        assertThat(policy.canAdmit()).isFalse();

        policy.retire("b-0"); // b is done: 160 against a's 100 alone is beyond 1.2 as well
        assertThat(policy.admit()).isEmpty();
        policy.retire("a-0"); // alone, it takes every place
        assertThat(policy.admit()).containsExactly("hog-1", "hog-2", "hog-3");
    }

    @Test
    void clientsWithAsManySequencesShareEqually() {
        BatchPolicy<String> policy = byClient(4, ran(10, 20, 30, 40));
        List.of("a-0", "a-1", "b-0", "b-1").forEach(policy::enqueue);

        assertThat(policy.admit()).hasSize(4);
        assertThat(preemptions(policy)).isEmpty(); // neither has a smaller neighbour to slow
    }

    @Test
    void aPausedSequenceFreesItsPlaceAndTakesTheNextFirst() {
        BatchPolicy<String> policy = byClient(2);
        List.of("a-0", "b-0", "c-0").forEach(policy::enqueue);
        policy.admit();
        policy.prefill().spent("a-0", 0, true);

        policy.retire("a-0"); // paused: its row parked
        assertThat(policy.admit()).containsExactly("c-0");
        policy.enqueue("d-0");
        policy.requeue("a-0"); // its client read: it goes on

        policy.retire("b-0");
        assertThat(policy.admit()).containsExactly("a-0");
        assertThat(policy.prefillOrder()).containsExactly("c-0"); // a-0 rejoins with its row
    }

    @Test
    void requestsQueuedForAdmissionCountAsTheClientsSequences() {
        // Admission gave each client two slots; the hog has more requests queued behind them.
        BatchPolicy<String> policy = byClient(4, ran(10, 20, 30, 40), client -> client.equals("hog") ? 8 : 0);
        List.of("hog-0", "hog-1", "a-0", "a-1").forEach(policy::enqueue);

        assertThat(policy.admit()).containsExactly("hog-0", "a-0", "a-1");
        assertThat(policy.canAdmit()).isFalse(); // 4 rows against a's 2 alone: beyond 1.2
    }
}
