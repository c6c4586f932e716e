package dev.kvshare.generation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import dev.kvshare.generation.FairAdmission.Outcome;
import org.junit.jupiter.api.Test;

/** The admission policy alone: who runs, who waits, who is refused, and whose turn a freed slot is. */
class FairAdmissionTest {

    private static FairAdmission<String> admission(int running, int queued, int runningPerClient, int queuedPerClient) {
        return new FairAdmission<>(new FairAdmission.Limits(running, queued, runningPerClient, queuedPerClient));
    }

    @Test
    void aClientAloneUsesEverySlotAndItsShareOfTheQueue() {
        FairAdmission<String> admission = admission(4, 32, 4, 8);

        List<Outcome> outcomes = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            outcomes.add(admission.offer("hog", "hog-" + i));
        }

        assertThat(outcomes.subList(0, 4)).containsOnly(Outcome.RUNNING);
        assertThat(outcomes.subList(4, 12)).containsOnly(Outcome.QUEUED);
        assertThat(outcomes.subList(12, 40)).containsOnly(Outcome.CLIENT_AT_QUOTA);
        assertThat(admission.running()).isEqualTo(4);
        assertThat(admission.queued()).isEqualTo(8);
        assertThat(admission.queuedOf("hog")).isEqualTo(8);
        assertThat(admission.queuedOf("other")).isZero();
    }

    @Test
    void newcomersBehindAHogHoldingEverySlotStartAtOnceWhileTheHogKeepsOne() {
        FairAdmission<String> admission = admission(4, 32, 4, 8);
        for (int i = 0; i < 12; i++) {
            admission.offer("hog", "hog-" + i);
        }

        assertThat(admission.offer("a", "a-0")).isEqualTo(Outcome.PREEMPTING);
        assertThat(admission.offer("b", "b-0")).isEqualTo(Outcome.PREEMPTING);
        assertThat(admission.offer("c", "c-0")).isEqualTo(Outcome.PREEMPTING);
        assertThat(admission.offer("d", "d-0")).isEqualTo(Outcome.QUEUED); // the hog is down to one
        assertThat(admission.offer("a", "a-1")).isEqualTo(Outcome.QUEUED); // a runs one already
        assertThat(admission.running()).isEqualTo(4);
    }

    @Test
    void aClientRunningTwoFewerThanTheBusiestTakesOneOfItsSlots() {
        FairAdmission<String> admission = admission(4, 32, 4, 8);
        for (int i = 0; i < 3; i++) {
            admission.offer("hog", "hog-" + i);
        }
        admission.offer("a", "a-0");

        assertThat(admission.offer("a", "a-1")).isEqualTo(Outcome.PREEMPTING); // 1 against 3
        assertThat(admission.offer("a", "a-2")).isEqualTo(Outcome.QUEUED); // 2 against 2: equal shares
    }

    @Test
    void aParkedItemResumesBeforeAnyQueuedOneStarts() {
        FairAdmission<String> admission = admission(4, 32, 4, 8);
        for (int i = 0; i < 6; i++) {
            admission.offer("hog", "hog-" + i);
        }
        admission.offer("a", "a-0"); // parks one of the hog's
        admission.offer("b", "b-0"); // parks another

        assertThat(admission.release("a", "a-0")).isEmpty(); // a parked hog item takes a's slot
        assertThat(admission.release("hog", "hog-0")).isEmpty(); // the hog's last parked one takes its own slot
        assertThat(admission.release("hog", "hog-1")).contains("hog-4"); // nothing parked: the queue's turn
        assertThat(admission.running()).isEqualTo(4);
    }

    @Test
    void aParkedItemTakesAPlaceInItsClientsQueueShare() {
        FairAdmission<String> admission = admission(4, 32, 4, 2);
        for (int i = 0; i < 5; i++) {
            admission.offer("hog", "hog-" + i);
        }

        assertThat(admission.offer("a", "a-0")).isEqualTo(Outcome.PREEMPTING);
        assertThat(admission.offer("hog", "hog-5")).isEqualTo(Outcome.CLIENT_AT_QUOTA); // 1 queued + 1 parked
    }

    @Test
    void freedSlotsGoToWaitingClientsInTurn() {
        FairAdmission<String> admission = admission(2, 32, 1, 8);
        admission.offer("a", "a-0");
        admission.offer("x", "x-0");
        for (String client : List.of("b", "c")) {
            for (int i = 0; i < 3; i++) {
                admission.offer(client, client + "-" + i);
            }
        }

        List<String> started = new ArrayList<>();
        String finishing = "a-0";
        for (int i = 0; i < 6; i++) {
            Optional<String> next = admission.release(finishing.substring(0, 1), finishing);
            started.add(next.orElseThrow());
            finishing = next.get();
        }

        // Whoever runs fewest goes first; clients with equal shares alternate.
        assertThat(started).containsExactly("b-0", "c-0", "b-1", "c-1", "b-2", "c-2");
    }

    @Test
    void aClientAtItsRunningBoundWaitsWhileOthersRun() {
        FairAdmission<String> admission = admission(4, 8, 1, 2);

        assertThat(admission.offer("a", "a-0")).isEqualTo(Outcome.RUNNING);
        assertThat(admission.offer("a", "a-1")).isEqualTo(Outcome.QUEUED);
        assertThat(admission.offer("b", "b-0")).isEqualTo(Outcome.RUNNING);

        assertThat(admission.release("b", "b-0")).isEmpty(); // a's next may not run beside a-0
        assertThat(admission.release("a", "a-0")).contains("a-1");
    }

    @Test
    void onlyTheOverQuotaClientIsRefused() {
        FairAdmission<String> admission = admission(1, 4, 1, 2);
        admission.offer("hog", "hog-0");
        admission.offer("hog", "hog-1");
        admission.offer("hog", "hog-2");

        assertThat(admission.offer("hog", "hog-3")).isEqualTo(Outcome.CLIENT_AT_QUOTA);
        assertThat(admission.offer("other", "other-0")).isEqualTo(Outcome.QUEUED);
        assertThat(admission.offer("third", "third-0")).isEqualTo(Outcome.QUEUED);
        assertThat(admission.offer("fourth", "fourth-0")).isEqualTo(Outcome.FULL); // the whole queue is taken
    }

    @Test
    void aWithdrawnRequestLeavesTheQueueAndItsTurn() {
        FairAdmission<String> admission = admission(1, 4, 1, 4);
        admission.offer("a", "a-0");
        admission.offer("b", "b-0");
        admission.offer("c", "c-0");

        assertThat(admission.withdraw("b", "b-0")).isTrue();
        assertThat(admission.withdraw("b", "b-0")).isFalse();
        assertThat(admission.withdraw("a", "a-0")).isFalse(); // running, not waiting

        assertThat(admission.queued()).isEqualTo(1);
        assertThat(admission.release("a", "a-0")).contains("c-0");
        assertThat(admission.release("c", "c-0")).isEmpty();
        assertThat(admission.running()).isZero();
    }

    @Test
    void aPausedItemLendsItsSlotToAnotherClientAndTakesTheNextFreeOneFirst() {
        FairAdmission<String> admission = admission(2, 32, 2, 8);
        admission.offer("a", "a-0");
        admission.offer("b", "b-0");
        admission.offer("c", "c-0");

        assertThat(admission.pause("a", "a-0")).contains("c-0"); // its client stopped reading
        assertThat(admission.running()).isEqualTo(2);
        admission.offer("d", "d-0");
        admission.resume("a", "a-0"); // no slot free: it is counted as parked

        assertThat(admission.release("b", "b-0")).isEmpty(); // a-0 takes the freed slot before d-0
        assertThat(admission.release("c", "c-0")).contains("d-0");
    }

    @Test
    void aPausedItemLendsItsSlotToOtherClientsOnlyAndEndsHoldingNone() {
        FairAdmission<String> admission = admission(2, 32, 2, 8);
        admission.offer("a", "a-0");
        admission.offer("a", "a-1");
        admission.offer("a", "a-2");

        assertThat(admission.pause("a", "a-0")).isEmpty(); // a's own queued item waits
        assertThat(admission.offer("b", "b-0")).isEqualTo(Outcome.RUNNING);
        assertThat(admission.release("a", "a-0")).isEmpty(); // cancelled while paused: it held no slot
        assertThat(admission.running()).isEqualTo(2);
        admission.resume("a", "a-0"); // too late: nothing changes
        assertThat(admission.running()).isEqualTo(2);
    }

    @Test
    void releasingForAClientWithNothingRunningIsABug() {
        FairAdmission<String> admission = admission(1, 1, 1, 1);

        assertThatThrownBy(() -> admission.release("nobody", "nobody-0")).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void zeroPerClientLimitsMeanEverySlotAndAQuarterOfTheQueue() {
        FairAdmission.Limits limits = ClientLimits.defaults()
                .admissionLimits(new GenerationProperties(4, 32, 1, 512, 4, 256));

        assertThat(limits).isEqualTo(new FairAdmission.Limits(4, 32, 4, 8));
        assertThat(ClientLimits.defaults().admissionLimits(new GenerationProperties(4, 0, 1, 512, 4, 256))
                .maxQueuedPerClient()).isZero();
    }
}
