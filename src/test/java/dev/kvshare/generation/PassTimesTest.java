package dev.kvshare.generation;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The pass-time model the batch policy weighs extra rows by, fed made-up passes. */
class PassTimesTest {

    @Test
    void predictsNothingBeforeAPassRanAndThenAllowsAnything() {
        PassTimes passTimes = new PassTimes();

        assertThat(passTimes.predict(2)).isEmpty();
        assertThat(passTimes.withinFactor(4, 1, 1.0)).isTrue();
    }

    @Test
    void followsFasterPassesQuicklyAndSlowerOnesSlowly() {
        PassTimes passTimes = new PassTimes();
        passTimes.ran(2, 100);
        passTimes.ran(2, 300); // contention: one pass moves the average by a fiftieth

        assertThat(passTimes.predict(2)).hasValue(104.0);
        passTimes.ran(2, 4);
        assertThat(passTimes.predict(2)).hasValue(79.0); // a quarter of the way down
    }

    @Test
    void interpolatesBetweenRowCountsThatRanAndScalesBeyondThem() {
        PassTimes passTimes = new PassTimes();
        passTimes.ran(1, 100);
        passTimes.ran(4, 160);

        assertThat(passTimes.predict(2)).hasValue(120.0);
        assertThat(passTimes.predict(8)).hasValue(320.0); // as costly per row as the nearest that ran
    }

    @Test
    void weighsMoreRowsAgainstFewer() {
        PassTimes passTimes = new PassTimes();
        passTimes.ran(2, 100);
        passTimes.ran(3, 150);

        assertThat(passTimes.withinFactor(3, 2, 1.5)).isTrue();
        assertThat(passTimes.withinFactor(3, 2, 1.2)).isFalse();
    }
}
