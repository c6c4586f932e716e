package dev.kvshare.generation;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

class StopStringsTest {

    @Test
    void textWithoutStopsPassesStraightThrough() {
        StopStrings stops = new StopStrings(List.of());
        assertThat(stops.offer("Hello")).isEqualTo(new StopStrings.Offer("Hello", false));
        assertThat(stops.flush()).isEmpty();
    }

    @Test
    void aStopSplitAcrossDeltasIsHeldBackThenCut() {
        StopStrings stops = new StopStrings(List.of("\nUser:"));
        assertThat(stops.offer("Sure, done.\nUs")).isEqualTo(new StopStrings.Offer("Sure, done.", false));
        assertThat(stops.offer("er: next")).isEqualTo(new StopStrings.Offer("", true));
    }

    @Test
    void heldTextIsReleasedWhenItStopsLookingLikeAStop() {
        StopStrings stops = new StopStrings(List.of("END"));
        assertThat(stops.offer("the EN").text()).isEqualTo("the ");
        assertThat(stops.offer("ding")).isEqualTo(new StopStrings.Offer("ENding", false));
    }

    @Test
    void theEarliestOfSeveralStopsWins() {
        StopStrings stops = new StopStrings(List.of("b", "a"));
        assertThat(stops.offer("xxaxb")).isEqualTo(new StopStrings.Offer("xx", true));
    }

    @Test
    void flushReturnsWhatWasHeldAtTheEnd() {
        StopStrings stops = new StopStrings(List.of("###"));
        assertThat(stops.offer("answer #").text()).isEqualTo("answer ");
        assertThat(stops.flush()).isEqualTo("#");
    }
}
