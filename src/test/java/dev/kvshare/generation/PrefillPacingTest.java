package dev.kvshare.generation;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * {@link PrefillPacing} on a steady clock: streams whose own cycle (a decode pass and its sampling) takes
 * 10 ms, prefill at 1 ms a token with no fixed cost, {@code prefill-tokens-per-step} 256. Prefill settles at
 * {@value PrefillPacing#SHARE} of the cycle (7.5 tokens) whatever the number of streams while a prompt or
 * fewer per stream waits, grows by prompts / streams when more wait, and takes the whole 256 with no stream.
 */
class PrefillPacingTest {

    private static final long MS = 1_000_000;
    private static final int MOST = 256;

    @Test
    void oneWaitingPromptTakesThreeQuartersOfTheStreamsCycleHoweverManyRun() {
        assertThat(settledGrant(1, 1)).isBetween(7, 8);
        assertThat(settledGrant(2, 1)).isBetween(7, 8);
        assertThat(settledGrant(15, 1)).isBetween(7, 8);
        assertThat(settledGrant(8, 8)).isBetween(7, 8);
    }

    @Test
    void promptsOutnumberingTheStreamsEachCountAsAStream() {
        // 14 prompts beside 2 streams: 7 times the share, 52.5 tokens a cycle.
        assertThat(settledGrant(2, 14)).isBetween(49, 56);
        assertThat(settledGrant(1, 3)).isBetween(21, 24);
    }

    @Test
    void withNoStreamThePromptsTakeTheWholeBudget() {
        PrefillPacing pacing = new PrefillPacing(MOST);
        settle(pacing, 2, 1);
        assertThat(pacing.tokens(0, 14)).isEqualTo(MOST);
    }

    private static int settledGrant(int streams, int prompts) {
        return settle(new PrefillPacing(MOST), streams, prompts);
    }

    /** 40 cycles of prefilling all that is granted, then a decode pass: the last grant. */
    private static int settle(PrefillPacing pacing, int streams, int prompts) {
        long now = 0;
        int grant = 0;
        for (int cycle = 0; cycle < 40; cycle++) {
            grant = pacing.tokens(streams, prompts);
            pacing.prefilled(grant, grant * MS);
            now += grant * MS;
            pacing.passStarts(now);
            now += 10 * MS;
        }
        return grant;
    }
}
