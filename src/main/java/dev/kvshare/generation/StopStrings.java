package dev.kvshare.generation;

import java.util.List;

/**
 * Finds the request's stop strings in generated text. Text that could still grow into a stop string is
 * held back, so a client never receives part of one; the stop string itself is never returned.
 */
final class StopStrings {

    /** Text safe to send now, and whether a stop string ended the generation. */
    record Offer(String text, boolean stopped) {
    }

    private final List<String> stops;
    private final StringBuilder pending = new StringBuilder();

    StopStrings(List<String> stops) {
        this.stops = stops.stream().filter(s -> !s.isEmpty()).toList();
    }

    Offer offer(String delta) {
        pending.append(delta);
        int earliest = -1;
        for (String stop : stops) {
            int at = pending.indexOf(stop);
            if (at >= 0 && (earliest < 0 || at < earliest)) {
                earliest = at;
            }
        }
        if (earliest >= 0) {
            String text = pending.substring(0, earliest);
            pending.setLength(0);
            return new Offer(text, true);
        }
        int safe = pending.length() - longestSuffixStartingAStop();
        String text = pending.substring(0, safe);
        pending.delete(0, safe);
        return new Offer(text, false);
    }

    /** The held-back text, once no more tokens will come. */
    String flush() {
        String text = pending.toString();
        pending.setLength(0);
        return text;
    }

    private int longestSuffixStartingAStop() {
        String text = pending.toString();
        int longest = 0;
        for (String stop : stops) {
            for (int length = Math.min(stop.length() - 1, text.length()); length > longest; length--) {
                if (text.regionMatches(text.length() - length, stop, 0, length)) {
                    longest = length;
                    break;
                }
            }
        }
        return longest;
    }
}
